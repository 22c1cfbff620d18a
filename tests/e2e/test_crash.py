"""kill -9 at random moments, a hundred times in a row (docs/DELIVERY.md).

An HTTP endpoint refuses everything (503) while an exec check flips state every
run and heartbeats go out every 200 ms, so records pile up in the spool and every
run of the agent sends and is refused. A `file:` output beside it is the witness
of what the agent counted as emitted: it writes a record only once its own spool
made it durable. The agent is killed with SIGKILL at a random moment after each
start, and started again. Then the endpoint accepts (200), and every record the
endpoint ever saw, and every record the witness wrote, must arrive in a request
that got 200. Duplicates (the same id acknowledged twice) are allowed and counted.
"""

import json
import os
import random
import subprocess
import sys
import time
import unittest

import harness
from harness import Agent, Workdir, wait_for

CYCLES = 100

FLIP = """#!/bin/sh
# A new pid each run: the state changes at random between ok, warning, critical.
echo "flip $$"
exit $(( $$ % 3 ))
"""


class ReceiverLog:
    """Reads the receiver's request log as it grows."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.seen = set()        # ids in any request, whatever the reply
        self.acked = {}          # id -> times it came in a request answered 200
        self.instances = set()   # agent.instance of every request
        self.requests = 0
        self.torn = 0            # requests whose body was cut short

    def poll(self):
        if not os.path.exists(self.path):
            return
        with open(self.path, encoding="utf-8") as f:
            f.seek(self.offset)
            while True:
                line = f.readline()
                if not line.endswith("\n"):
                    break  # the receiver is still writing it
                self.offset = f.tell()
                entry = json.loads(line)
                self.requests += 1
                body = entry["body"]
                if not isinstance(body, dict):
                    # The agent was killed while sending: the body was cut short
                    # (if it got 200, nobody read the reply).
                    self.torn += 1
                    continue
                self.instances.add(body["agent"]["instance"])
                for r in body["records"]:
                    self.seen.add(r["id"])
                    if entry["status"] == 200:
                        self.acked[r["id"]] = self.acked.get(r["id"], 0) + 1


def witness_records(path):
    """id -> kind of the whole lines of the file: output (a torn line is skipped)."""
    records = {}
    if not os.path.exists(path):
        return records
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue  # a line cut short by a kill, with the next run's after it
            records[r["id"]] = r["kind"]
    return records


class Crash(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()
        self.receiver = None
        self.agent = None

    def tearDown(self):
        if self.agent and self.agent.proc and self.agent.proc.poll() is None:
            self.agent.kill9()
        if self.receiver and self.receiver.poll() is None:
            self.receiver.kill()
            self.receiver.wait()
        self.w.cleanup()

    def start_receiver(self):
        self.script = self.w.write("script.json", json.dumps({"status": 503}))
        port_file = self.w.file("port")
        self.receiver = subprocess.Popen([
            sys.executable, os.path.join(harness.SOURCE, "tests/support/receiver.py"),
            "--port", "0", "--log", self.w.file("requests.jsonl"), "--port-file", port_file,
            "--script", self.script, "--parent", str(os.getpid())])
        wait_for(lambda: os.path.exists(port_file), what="the receiver's port")
        with open(port_file) as f:
            return int(f.read())

    def test_kill_9_in_a_loop_loses_nothing(self):
        port = self.start_receiver()
        witness = self.w.file("witness.jsonl")
        flip = self.w.write("flip.sh", FLIP, mode=0o755)
        config = self.w.write("vigil.ini", (
            "[agent]\nstate_dir = %s\ninterval = 100ms\nheartbeat = 200ms\n"
            "status_listen = off\n"
            "[exec flip]\ncommand = %s\ninterval = 100ms\n"
            "[output http]\nurl = http://127.0.0.1:%d/ingest\nflush_interval = 50ms\n"
            "retry_max = 200ms\ntimeout = 5s\n"
            "[output witness]\nurl = file:%s\nflush_interval = 50ms\n")
            % (self.w.file("state"), flip, port, witness))
        log = ReceiverLog(self.w.file("requests.jsonl"))
        rng = random.Random()
        started = time.monotonic()
        for cycle in range(CYCLES):
            self.agent = Agent(self.w, config).start()
            if cycle % 2 == 0:
                # Alive once it logs that it started (the loop may not have run yet).
                wait_for(lambda: "started:" in self.agent.stderr() or self.agent.exited(),
                         timeout=30, what="cycle %d: the started line" % cycle)
            else:
                # Alive once the endpoint saw a request from this run.
                known = set(log.instances)

                def new_request():
                    log.poll()
                    return log.instances - known or self.agent.exited()
                wait_for(new_request, timeout=30, what="cycle %d: a request" % cycle)
            self.assertIsNone(self.agent.proc.poll(),
                              "cycle %d: the agent exited by itself:\n%s"
                              % (cycle, self.agent.stderr()))
            time.sleep(rng.uniform(0, 0.3))  # the random moment of the kill
            self.agent.kill9()
        crash_seconds = time.monotonic() - started
        log.poll()
        seen_while_refused = set(log.seen)
        witnessed = witness_records(witness)
        self.assertFalse(log.acked, "the endpoint acknowledged nothing yet")
        self.assertGreater(len(seen_while_refused), CYCLES)
        self.assertGreater(len(witnessed), CYCLES)

        # The endpoint comes back: everything must arrive.
        with open(self.script + ".tmp", "w") as f:
            f.write(json.dumps({"status": 200}))
        os.rename(self.script + ".tmp", self.script)
        self.agent = Agent(self.w, config).start()
        wanted = seen_while_refused | set(witnessed)

        def delivered():
            log.poll()
            return not (wanted - set(log.acked))
        try:
            wait_for(delivered, timeout=60, what="every record to be acknowledged")
        except AssertionError:
            missing = wanted - set(log.acked)
            raise AssertionError(
                "%d record(s) never acknowledged (%d seen by the endpoint, %d witnessed): "
                "%s" % (len(missing), len(missing & seen_while_refused),
                        len(missing & set(witnessed)),
                        ["%s %s" % (i, witnessed.get(i, "?")) for i in sorted(missing)[:5]]))
        self.assertEqual(self.agent.stop(), 0)
        log.poll()
        duplicates = sum(n - 1 for n in log.acked.values())
        print("\n%d kill -9 cycles in %.1fs; %d records seen while refused, %d witnessed, "
              "%d acknowledged, %d duplicate(s), %d requests (%d cut short by a kill)"
              % (CYCLES, crash_seconds, len(seen_while_refused), len(witnessed),
                 len(log.acked), duplicates, log.requests, log.torn))


if __name__ == "__main__":
    harness.main()
