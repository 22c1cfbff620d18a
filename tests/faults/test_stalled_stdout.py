"""Standard output into a pipe nobody reads: the agent stays responsive.

A `stdout` output whose reader has stopped reading (a hung log shipper, a
terminal on hold) fills the pipe within seconds. From then on, every write to
it blocks. The agent must keep everything else going: the status server
answers, the other outputs deliver, SIGTERM stops it within shutdown_timeout +
1 s, and what stdout could not take stays in its spool for the next run.
"""

import fcntl
import json
import os
import signal
import subprocess
import termios
import time

import faults
from faults import harness, wait_for
from receiver_harness import free_port  # the e2e folder is on the path through faults
from status_client import try_get

# shutdown_timeout + 1 s, and half a second for a loaded machine (as in
# tests/e2e/test_shutdown.py).
EXIT_BOUND = 3.5
# How long the agent must stay responsive with the pipe full.
OBSERVE = 15.0
# Each poll of /health must be answered within this.
HEALTH_TIMEOUT = 1.0


def queued(fd):
    """Bytes waiting in the pipe behind fd."""
    buf = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
    return int.from_bytes(buf, "little")


def read_lines(fd):
    """Everything left in a pipe whose writers are gone, as whole lines."""
    data = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "replace").split("\n")[:-1]


def ids_of_lines(lines):
    out = set()
    for l in lines:
        try:
            out.add(json.loads(l)["id"])
        except (ValueError, KeyError):
            pass  # a line cut by the exit mid-write; its record is still spooled
    return out


class StalledStdout(harness.AgentTestCase):
    def setUp(self):
        super().setUp()
        self.address = "127.0.0.1:%d" % free_port()
        self.cfg = self.w.write("agent.ini", (
            "[agent]\nstate_dir = %s\ninterval = 200ms\nheartbeat = 100ms\n"
            "shutdown_timeout = 2s\nstatus_listen = %s\n[load]\n"
            "[output out]\nurl = stdout\nflush_interval = 50ms\nretry_max = 200ms\n"
            "[output witness]\nurl = file:%s\nflush_interval = 50ms\n")
            % (self.w.file("state"), self.address, self.w.file("witness.jsonl")))
        self.proc = None
        self.reader = None

    def tearDown(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.reader is not None:
            os.close(self.reader)
        if getattr(self, "_err", None) is not None:
            self._err.close()
        super().tearDown()

    def start_stalled(self):
        """`vigil run` with stdout into a one-page pipe that nobody reads."""
        self.reader, writer = faults.small_pipe()
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        env.pop("NOTIFY_SOCKET", None)
        self._err = open(self.w.file("stalled.stderr"), "w")
        self.proc = subprocess.Popen([harness.VIGIL, "run", "-c", self.cfg], stdout=writer,
                                     stderr=self._err, env=env)
        os.close(writer)  # the agent holds the only write end

    def stderr(self):
        with open(self.w.file("stalled.stderr")) as f:
            return f.read()

    def status(self):
        got = try_get(self.address, "/status", HEALTH_TIMEOUT)
        if got is None or got[0] != 200:
            return None
        return {o["name"]: o for o in json.loads(got[2])["outputs"]}

    def witness_ids(self):
        p = self.w.file("witness.jsonl")
        if not os.path.exists(p):
            return []
        with open(p) as f:
            return [json.loads(l)["id"] for l in f if l.endswith("\n")]

    def test_a_stalled_stdout_holds_up_nothing_else_and_loses_nothing(self):
        self.start_stalled()
        wait_for(lambda: queued(self.reader) > 0, 20, "records on stdout")

        # The pipe fills and stdout's records pile up in its spool: the status
        # server is what tells, so it has to answer for this wait to end.
        def piling_up():
            s = self.status()
            return s and s["out"]["spool_records"] >= 10
        wait_for(piling_up, 20, "stdout's spool to grow behind the full pipe (status answering)")
        self.assertGreater(queued(self.reader), 0)

        # A bounded observation window: for OBSERVE seconds every /health poll
        # must be answered within HEALTH_TIMEOUT, while the witness keeps getting
        # heartbeats and stdout's backlog keeps growing.
        spooled_before = self.status()["out"]["spool_records"]
        witnessed_before = len(self.witness_ids())
        end = time.monotonic() + OBSERVE
        polls = 0
        while time.monotonic() < end:
            got = try_get(self.address, "/health", HEALTH_TIMEOUT)
            self.assertIsNotNone(got, "/health did not answer within %.1fs after %d polls"
                                 % (HEALTH_TIMEOUT, polls))
            self.assertEqual(got[0], 200, got)
            polls += 1
            time.sleep(0.2)  # pacing between polls, not synchronisation
        s = self.status()
        self.assertIsNotNone(s, "/status did not answer")
        # 100 ms heartbeats for 15 s: well over a hundred, allow for a slow machine.
        self.assertGreaterEqual(len(self.witness_ids()), witnessed_before + 50)
        self.assertGreaterEqual(s["out"]["spool_records"], spooled_before + 50)
        self.assertGreater(queued(self.reader), 0, "the pipe was drained behind our back")

        # SIGTERM: out within the bound, exit code 0, though a write is stuck.
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(EXIT_BOUND + 5)
        except subprocess.TimeoutExpired:
            self.fail("the agent did not exit within %.1fs of SIGTERM" % (EXIT_BOUND + 5))
        took = time.monotonic() - started
        self.assertEqual(code, 0, self.stderr())
        self.assertLess(took, EXIT_BOUND, "exit took %.2fs" % took)

        # What reached the pipe, then a run with a reader attached: every record
        # the witness got (stdout takes the same kinds) comes out on stdout.
        witnessed = set(self.witness_ids())
        on_stdout = ids_of_lines(read_lines(self.reader))
        self.assertTrue(os.listdir(self.w.file("state/spool/out")))
        a = harness.Agent(self.w, self.cfg, name="drain").start()
        self.agents.append(a)

        def all_delivered():
            missing = witnessed - on_stdout - {r["id"] for r in a.records()}
            return not missing
        wait_for(all_delivered, 30, "every record spooled for stdout to come out")
        self.assertEqual(a.stop(), 0)


if __name__ == "__main__":
    faults.main()
