"""A disk that fills under the spools: records keep flowing, none is lost or dropped.

state_dir (and with it every spool) is a 1 MiB tmpfs, which another file fills. A
full disk is not a full spool: the spool gives up none of the records it holds, and
those it has no room for are held in memory, sent after the spooled ones, and made
durable as soon as the disk has room again. A `file:` witness outside the tmpfs
sees every record, so that the test knows what the endpoint should get.
"""

import os

import faults
from faults import harness, wait_for
from receiver_harness import Receiver, free_port

faults.ensure_root_for_mounts()


class SpoolFullDisk(faults.FaultTestCase):
    def setUp(self):
        super().setUp()
        self.fs = self.mount("state", "1m")
        self.rx = Receiver(self.w, self.certs)
        self.receivers.append(self.rx)
        self.rx.start()
        self.port = free_port()
        self.witness = self.w.file("witness.jsonl")
        # One lane (spool_priority = off): with lanes, the low lane would give way to
        # the full disk (test_priority_lane.py). spool_max 64 KiB: 8 KiB segments, so the reserve ahead of the tail is 8 KiB and
        # spent within a second or two of heartbeats; memory for held records is 64 KiB.
        self.config = self.w.write("agent.ini", (
            "[agent]\nstate_dir = %s\nheartbeat = 100ms\ninterval = 1s\n"
            "status_listen = 127.0.0.1:%d\nshutdown_timeout = 5s\n"
            "[output http]\nurl = %s\nca_file = %s\nflush_interval = 50ms\nretry_max = 300ms\n"
            "spool_max = 64KiB\nspool_priority = off\n"
            "[output witness]\nurl = file:%s\nflush_interval = 50ms\nspool_max = 64KiB\n"
            "spool_priority = off\n") % (
                self.fs.path, self.port, self.rx.url(), self.ca_file(),
                self.witness))

    def heartbeats_at_endpoint(self):
        return len([r for r in self.rx.records() if r["kind"] == "heartbeat"])

    def wait_delivered(self, ids, what):
        def missing():
            got = {r["id"] for r in self.rx.records()}
            return [i for i in ids if i not in got]
        try:
            wait_for(lambda: not missing(), 20, what)
        except AssertionError:
            self.fail("%s: %d of %d records missing" % (what, len(missing()), len(ids)))

    def test_records_flow_while_the_disk_is_full_and_become_durable_again(self):
        a = harness.Agent(self.w, self.config).start()
        self.agents.append(a)
        self.rx.wait_record(lambda r: r["kind"] == "heartbeat", what="a first delivery")

        # 1. The endpoint is up while the disk fills: what is made after still arrives.
        self.fs.fill()
        seen = self.heartbeats_at_endpoint()
        wait_for(lambda: self.heartbeats_at_endpoint() >= seen + 20, 20,
                 "heartbeats made after the disk filled, at the endpoint")
        self.assertFalse(a.exited(), a.stderr())
        wait_for(lambda: "records are held in memory" in a.stderr(), 20,
                 "the spool's full disk in the log")
        http = self.http()
        if "storage_error" in http:
            self.assertIn("No space left on device", http["storage_error"] or "")
            self.assertIn(os.path.join(self.fs.path, "spool", "http"), http["storage_error"])

        # 2. The endpoint goes down: records are held, none dropped, all sent later.
        self.rx.stop()
        down = len(faults.witnessed(self.witness))
        wait_for(lambda: len(faults.witnessed(self.witness)) >= down + 20, 20,
                 "records made while the endpoint is down and the disk full")
        http = self.http()
        self.assertEqual(http["dropped"], 0, http)
        if "memory_records" in http:
            self.assertGreater(http["memory_records"], 0, http)
        self.rx.start()
        self.wait_delivered(faults.witnessed(self.witness), "records held in memory, delivered")
        self.assertEqual(self.status()["loss"]["dropped"], 0)

        # 3. Space returns: records are durable again, in the spool, not in memory.
        self.rx.stop()
        self.fs.free()

        def durable_again():
            h = self.http()
            return h["spool_records"] >= 5 and h.get("memory_records", 0) == 0 and h
        http = wait_for(durable_again, 20, "records in the spool again")
        self.assertFalse(http.get("storage_error"), http)
        self.rx.start()
        self.wait_delivered(faults.witnessed(self.witness), "every record, after space returned")
        s = self.status()
        self.assertEqual(s["loss"]["dropped"], 0, s)
        self.assertEqual(s["loss"]["corrupt_frames"], 0, s)
        self.assertEqual(a.stop(), 0, a.stderr())


if __name__ == "__main__":
    faults.main()
