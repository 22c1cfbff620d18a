"""A reload storm: SIGHUP every 150 ms while the endpoint accepts, fails and refuses.

A reload must not lose a record, whatever delivery was doing when it came: a batch in
flight, a retry waiting, a refused batch being written to dead letters. The agent
makes records fast (heartbeats every 100 ms) for two outputs: the endpoint, which
answers 200, 503 and 400 in turn, and a `file:` witness that gets every record. The
configuration is rewritten before each SIGHUP, every other time with a changed
header, so that half the reloads restart delivery and half change nothing. At the
end every record the witness saw is at the endpoint (acknowledged) or in the
output's dead letters: none is in neither.

The most dangerous moment for a reload is the millisecond or two after the endpoint
refused a batch, while the agent writes it to dead letters. A storm at a blind pace
hits it in one run out of a few; so when the endpoint refuses a batch within a
period, that period's SIGHUP goes out a random 0 to 4 ms after the refusal instead
of at the period's end.
"""

import glob
import json
import os
import random
import signal
import time

import faults
from faults import harness, wait_for
from receiver_harness import Receiver

STORM_SECONDS = 20.0
SIGHUP_EVERY = 0.15


def dead_letters(state, name):
    ids = set()
    for p in glob.glob(os.path.join(state, "dead", name, "*.json")):
        with open(p, encoding="utf-8") as f:
            for r in json.load(f)["records"]:
                ids.add(r["id"])
    return ids


class LogTail:
    """The statuses of the requests a receiver logged since the last call."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = b""

    def new_statuses(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        return [json.loads(line)["status"] for line in lines if line]


class ReloadStorm(faults.FaultTestCase):
    def status(self, agent):
        def ask():
            r = harness.run_cli(["status", "-c", agent.config, "--json"])
            return json.loads(r.stdout) if r.returncode == 0 else None
        return wait_for(ask, 20, "the status server")

    def http_status(self, agent):
        return [o for o in self.status(agent)["outputs"] if o["name"] == "http"][0]

    def test_no_record_is_lost_in_a_reload_storm(self):
        rx = Receiver(self.w, self.certs)
        self.receivers.append(rx)
        rx.start()
        rx.set_script([{"status": 200}, {"status": 503}, {"status": 400, "body": "refused"}]
                      * 5000)
        state = self.w.file("state")
        witness = self.w.file("witness.jsonl")

        def write_config(n):
            return self.w.write("agent.ini", (
                "[agent]\nstate_dir = %s\nheartbeat = 100ms\ninterval = 1s\n"
                "shutdown_timeout = 10s\n"
                "[output http]\nurl = %s\nca_file = %s\nbatch_max = 3\nflush_interval = 20ms\n"
                "retry_max = 100ms\nheader = X-Reload: %d\n"
                "[output witness]\nurl = file:%s\nflush_interval = 20ms\n") % (
                    state, rx.url(), self.ca_file(), n % 2, witness))

        agent = harness.Agent(self.w, write_config(0))
        self.agents.append(agent)
        agent.start()
        wait_for(lambda: len(rx.requests()) >= 3, 20, "the first requests")

        reloads = 0
        tail = LogTail(rx.log_path)
        tail.new_statuses()
        end = time.monotonic() + STORM_SECONDS
        while time.monotonic() < end:
            reloads += 1
            write_config(reloads)
            # The storm's own pace, not a wait for a result: the period's end, or just
            # after a refusal.
            period_end = time.monotonic() + SIGHUP_EVERY
            while time.monotonic() < period_end:
                if 400 in tail.new_statuses():
                    time.sleep(random.uniform(0, 0.004))
                    break
                time.sleep(0.001)
            agent.signal(signal.SIGHUP)
            self.assertIsNone(agent.proc.poll(), agent.stderr())
        self.assertGreater(agent.stderr().count("reload:"), reloads // 2)

        # Calm: the endpoint takes everything, the spool drains, the agent stops.
        rx.set_script({"status": 200})
        wait_for(lambda: self.http_status(agent)["spool_records"] == 0, 20,
                 "the spool drained after the storm")
        self.assertEqual(agent.stop(30), 0, agent.stderr())

        seen = faults.witnessed(witness)
        self.assertGreater(len(seen), 50)
        delivered = {r["id"] for r in rx.records()}
        dead = dead_letters(state, "http")
        self.assertTrue(dead, "no dead letter: the storm did not exercise refusals")
        lost = [i for i in dict.fromkeys(seen) if i not in delivered and i not in dead]
        self.assertEqual(lost, [], "%d of %d records neither delivered nor dead-lettered "
                         "after %d reloads" % (len(lost), len(set(seen)), reloads))


if __name__ == "__main__":
    faults.main()
