"""At the spool cap, incidents outlive events and heartbeats (docs/SPOOL.md, "Lanes").

A real HTTPS endpoint answers 503 while a chatty exec check (long messages, a new
state at random every 200 ms) and heartbeats fill a 64 KiB spool, so that events
and heartbeats are evicted. A `file:` output beside it is the witness of what was
emitted. The check flips every 200 ms rather than every second, and its messages are
long, so that the spool fills within seconds: the whole file must stay fast.
"""

import json
import os
import random
import time

import faults
from faults import harness, wait_for
from receiver_harness import Receiver, free_port

faults.ensure_root_for_mounts()

# A new state at random each run (ok or warning), with a long message: events are
# large, so the spool fills fast. Warnings open no incident record this output takes
# (min_severity = critical).
CHATTY = """#!/bin/sh
printf 'chatty %s ' "$$"
head -c 1500 /dev/zero | tr '\\0' x
echo
exit $(( $$ % 2 ))
"""

# Critical while the file `crit` beside it exists.
SECOND = """#!/bin/sh
if [ -e "$(dirname "$0")/crit" ]; then echo "second is down"; exit 2; fi
echo "second is fine"
"""

# ok and critical in turn, a new state every second: incidents open and resolve.
FLAPPY = """#!/bin/sh
echo "flappy"
exit $(( ($(date +%s) % 2) * 2 ))
"""

HIGH = ("incident", "problem")


class PriorityLane(faults.FaultTestCase):
    def setUp(self):
        super().setUp()
        self.rx = Receiver(self.w, self.certs)
        self.receivers.append(self.rx)
        self.rx.set_script({"status": 503})
        self.rx.start()
        self.port = free_port()
        self.witness = self.w.file("witness.jsonl")
        self.chatty = self.w.write("chatty.sh", CHATTY, mode=0o755)
        self.second = self.w.write("second.sh", SECOND, mode=0o755)
        self.flappy = self.w.write("flappy.sh", FLAPPY, mode=0o755)

    def config(self, state_dir, checks, spool_max="64KiB", witness=True, status=True):
        text = ("[agent]\nstate_dir = %s\nheartbeat = 200ms\ninterval = 1s\n"
                "status_listen = %s\nshutdown_timeout = 10s\n" % (
                    state_dir, "127.0.0.1:%d" % self.port if status else "off"))
        for name, script in checks:
            text += "[exec %s]\ncommand = %s\ninterval = 200ms\n" % (name, script)
        text += ("[output http]\nurl = %s\nca_file = %s\nflush_interval = 50ms\n"
                 "retry_max = 200ms\nspool_max = %s\nmin_severity = critical\n" % (
                     self.rx.url(), self.ca_file(), spool_max))
        if witness:
            text += ("[output witness]\nurl = file:%s\nflush_interval = 50ms\n"
                     "min_severity = critical\n" % self.witness)
        return self.w.write("agent.ini", text)

    def witnessed(self):
        """The witness's records, whole lines only, in order."""
        if not os.path.exists(self.witness):
            return []
        with open(self.witness, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.endswith("\n")]

    def received(self):
        """Records the endpoint acknowledged, each id once, in the order first seen."""
        seen, out = set(), []
        for r in self.rx.records():
            if r["id"] not in seen:
                seen.add(r["id"])
                out.append(r)
        return out

    def test_incidents_outlive_events_and_heartbeats_at_the_cap(self):
        config = self.config(self.w.file("state"),
                             [("chatty", self.chatty), ("second", self.second)])
        a = harness.Agent(self.w, config).start()
        self.agents.append(a)
        wait_for(lambda: self.http()["dropped"] > 0, 30, "the first drop")
        self.w.write("crit", "")
        opened = wait_for(lambda: [r for r in self.witnessed() if r["kind"] == "incident" and
                                   r["check"] == "second" and r["action"] == "open"],
                          20, "the second check's incident, emitted")[0]
        # Events go on being evicted while the endpoint refuses.
        dropped = self.http()["dropped"]
        wait_for(lambda: self.http()["dropped"] > dropped, 20, "drops after the incident")
        self.rx.set_script({"status": 200})
        self.rx.wait_record(lambda r: r["id"] == opened["id"], 20, "the incident's open")
        wait_for(lambda: self.http()["spool_bytes"] < 16 << 10, 20, "the spool to empty")
        http = self.http()
        self.assertEqual(http["dropped_by_kind"]["incident"], 0, http)
        self.assertEqual(http["dropped_by_kind"]["problem"], 0, http)
        # The vigil check says what was lost, by kind.
        said = wait_for(lambda: [r["message"] for r in self.witnessed()
                                 if r["kind"] == "event" and r["check"] == "vigil"
                                 and "dropped grew" in r["message"]],
                        20, "the vigil check's warning")
        self.assertRegex(said[0], r"output http: \d+ (event|heartbeat)")
        self.assertEqual(a.stop(), 0, a.stderr())

        emitted = self.witnessed()
        got = self.received()
        got_ids = {r["id"] for r in got}
        missing = [r for r in emitted if r["id"] not in got_ids]
        self.assertEqual({r["kind"] for r in missing} - {"event", "heartbeat"}, set())
        by_kind = http["dropped_by_kind"]
        self.assertEqual(len(missing), by_kind["event"] + by_kind["heartbeat"], http)
        self.assertEqual(http["dropped"], len(missing), http)
        # Every record of the incident arrived, and everything in emission order.
        of_incident = [r["id"] for r in emitted
                       if r.get("incident_id") == opened["incident_id"]]
        self.assertTrue(set(of_incident) <= got_ids)
        order = {r["id"]: i for i, r in enumerate(emitted)}
        positions = [order[r["id"]] for r in got if r["id"] in order]
        self.assertEqual(positions, sorted(positions))

    def test_kill_9_while_evicting_loses_no_high_lane_record(self):
        config = self.config(self.w.file("state"),
                             [("chatty", self.chatty), ("flappy", self.flappy)],
                             status=False)
        rng = random.Random()
        for cycle in range(20):
            a = harness.Agent(self.w, config, name="crash").start()
            wait_for(lambda: "started:" in a.stderr() or a.exited(), 20,
                     "cycle %d: the started line" % cycle)
            self.assertFalse(a.exited(), a.stderr())
            time.sleep(rng.uniform(0.05, 0.4))  # the random moment of the kill
            a.kill9()
        high = [r["id"] for r in self.witnessed() if r["kind"] in HIGH]
        self.assertTrue(high, "no incident was emitted")
        self.rx.set_script({"status": 200})
        a = harness.Agent(self.w, config, name="final").start()
        self.agents.append(a)

        def missing():
            got = {r["id"] for r in self.rx.records()}
            return [i for i in high if i not in got]
        try:
            wait_for(lambda: not missing(), 30, "every high-lane record")
        except AssertionError:
            self.fail("%d of %d high-lane records lost" % (len(missing()), len(high)))
        self.assertEqual(a.stop(), 0, a.stderr())

    def test_a_full_disk_evicts_the_low_lane_first(self):
        fs = self.mount("state", "2m")
        config = self.config(fs.path, [("chatty", self.chatty), ("second", self.second)],
                             spool_max="1MiB", witness=False)
        a = harness.Agent(self.w, config).start()
        self.agents.append(a)
        wait_for(lambda: self.http()["spool_records"] > 10, 20, "records in the spool")
        fs.fill()
        wait_for(lambda: self.http()["dropped_by_kind"]["event"] > 0, 20,
                 "events evicted for lack of disk space")
        self.w.write("crit", "")

        def high_lane():
            h = self.http()
            return h["spool_lane_bytes"]["high"] > 0 and h
        http = wait_for(high_lane, 20, "the incident, durable in the high lane")
        self.assertFalse(a.exited(), a.stderr())
        self.assertEqual(http["dropped_by_kind"]["incident"], 0, http)
        self.rx.set_script({"status": 200})
        self.rx.wait_record(lambda r: r["kind"] == "incident" and r["check"] == "second", 20,
                            "the incident, delivered")
        self.assertEqual(self.http()["dropped_by_kind"]["incident"], 0)
        self.assertEqual(a.stop(), 0, a.stderr())


if __name__ == "__main__":
    faults.main()
