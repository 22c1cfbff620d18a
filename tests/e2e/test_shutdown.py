"""SIGTERM during an outage: exit 0 within shutdown_timeout + 1 s, spool intact."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import unittest

import harness
from harness import Agent, Workdir, wait_for

RECEIVER = None
# shutdown_timeout + 1 s, and half a second for a loaded machine.
EXIT_BOUND = 3.5


class Shutdown(harness.AgentTestCase):
    def receiver(self, script, port=0):
        script_path = self.w.write("script.json", json.dumps(script))
        log = self.w.file("receiver.log")
        port_file = self.w.file("port")
        p = subprocess.Popen([sys.executable, RECEIVER, "--port", str(port), "--log", log,
                              "--port-file", port_file, "--script", script_path,
                              "--parent", str(os.getpid())])
        self.receivers.append(p)
        wait_for(lambda: os.path.exists(port_file), 20, "the receiver to listen")
        with open(port_file) as f:
            port = int(f.read())
        return port, log, script_path

    def start(self, url):
        cfg = self.w.write("agent.ini", (
            "[agent]\nstate_dir = %s\ninterval = 200ms\nheartbeat = 200ms\n"
            "shutdown_timeout = 2s\n[load]\n"
            "[output remote]\nurl = %s\ntimeout = 60s\nflush_interval = 100ms\n"
            "retry_max = 200ms\n"
            "[output copy]\nurl = file:%s\n")
            % (self.w.file("state"), url, self.w.file("copy.jsonl")))
        a = Agent(self.w, cfg).start()
        self.agents.append(a)
        return a

    def copied_ids(self):
        """Every record the agent emitted, as its file output wrote them."""
        p = self.w.file("copy.jsonl")
        if not os.path.exists(p):
            return []
        with open(p) as f:
            return [json.loads(l)["id"] for l in f if l.endswith("\n")]

    def stop_within_bound(self, a):
        started = time.monotonic()
        a.signal(signal.SIGTERM)
        code = a.proc.wait(30)
        took = time.monotonic() - started
        a._out.close()
        a._err.close()
        self.assertEqual(code, 0, a.stderr())
        self.assertLess(took, EXIT_BOUND, "exit took %.2fs" % took)

    def read_log(self, log):
        if not os.path.exists(log):
            return []
        with open(log) as f:
            return [json.loads(l) for l in f if l.endswith("\n")]

    def test_sigterm_with_a_hung_request_exits_in_time_and_the_spool_survives(self):
        port, log, script = self.receiver({"delay": 30})
        a = self.start("http://127.0.0.1:%d/ingest" % port)
        # A request hangs at the receiver, and more records pile up behind it.
        wait_for(lambda: self.read_log(log), 30, "the hung request")
        have = len(self.copied_ids())
        wait_for(lambda: len(self.copied_ids()) >= have + 3, 30, "more records spooled")
        self.stop_within_bound(a)
        before = set(self.copied_ids())
        in_flight = {r["id"] for req in self.read_log(log) for r in req["body"]["records"]}
        self.assertTrue(in_flight <= before)
        self.assertTrue(os.listdir(self.w.file("state/spool/remote")))
        # The endpoint comes back: the next run delivers everything spooled before,
        # the records that were in flight included.
        with open(script, "w") as f:
            json.dump({"status": 200}, f)
        a.start()

        def delivered():
            got = set()
            for req in self.read_log(log):
                if req["status"] == 200:
                    got.update(r["id"] for r in req["body"]["records"])
            return before <= got
        wait_for(delivered, 30, "the records spooled before the stop")
        self.assertEqual(a.stop(), 0)

    def test_sigterm_with_nothing_listening_exits_in_time_and_the_spool_survives(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connections are refused
        a = self.start("http://127.0.0.1:%d/ingest" % port)

        wait_for(lambda: len(self.copied_ids()) >= 5, 30, "records spooled during the outage")
        self.stop_within_bound(a)
        before = set(self.copied_ids())
        s.close()
        # The endpoint comes up on that port; the next run delivers the spool.
        _, log, _ = self.receiver({"status": 200}, port=port)
        a.start()

        def delivered():
            got = set()
            for req in self.read_log(log):
                got.update(r["id"] for r in req["body"]["records"])
            return before <= got
        wait_for(delivered, 30, "the records spooled before the stop")
        self.assertEqual(a.stop(), 0)


if __name__ == "__main__":
    harness.parse_args()
    RECEIVER = os.path.join(harness.SOURCE, "tests", "support", "receiver.py")
    unittest.main(verbosity=2)
