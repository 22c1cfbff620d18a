"""A damaged spool: one flipped byte in a segment header costs no record.

Every frame of a segment carries its own checksum, so a damaged header must not
throw away the records behind it. The agent spools records while its endpoint is
down and stops; a byte of the segment header is flipped; started again with the
endpoint up, it delivers every record it had spooled, and its loss counters say
that nothing was lost.
"""

import glob
import json
import os

import faults
from faults import harness, wait_for
from receiver_harness import Receiver


class SpoolDamage(faults.FaultTestCase):
    def status(self, agent):
        def ask():
            r = harness.run_cli(["status", "-c", agent.config, "--json"])
            return json.loads(r.stdout) if r.returncode == 0 else None
        return wait_for(ask, 20, "the status server")

    def output_status(self, agent, name):
        return [o for o in self.status(agent)["outputs"] if o["name"] == name][0]

    def test_damaged_segment_header_loses_no_record(self):
        rx = Receiver(self.w, self.certs)
        self.receivers.append(rx)
        rx.start()
        rx.stop()  # the endpoint is down: records stay in the spool
        witness = self.w.file("witness.jsonl")
        state = self.w.file("state")
        # One lane (spool_priority = off): its segments are straight in spool/http/.
        config = self.w.write("agent.ini", (
            "[agent]\nstate_dir = %s\nheartbeat = 200ms\ninterval = 1s\nshutdown_timeout = 1s\n"
            "[output http]\nurl = %s\nca_file = %s\nretry_max = 500ms\nflush_interval = 100ms\n"
            "spool_priority = off\n"
            "[output witness]\nurl = file:%s\nflush_interval = 50ms\n") % (
                state, rx.url(), self.ca_file(), witness))
        agent = harness.Agent(self.w, config)
        self.agents.append(agent)
        agent.start()
        wait_for(lambda: self.output_status(agent, "http")["spool_records"] >= 10, 30,
                 "ten records spooled for the down endpoint")
        self.assertEqual(agent.stop(), 0, agent.stderr())
        spooled = faults.witnessed(witness)

        segments = sorted(glob.glob(os.path.join(state, "spool", "http", "*.seg")))
        self.assertTrue(segments)
        with open(segments[0], "r+b") as f:
            f.seek(3)
            byte = f.read(1)
            f.seek(3)
            f.write(bytes([byte[0] ^ 0x20]))

        rx.start()
        agent.start()

        def missing():
            got = {r["id"] for r in rx.records()}
            return [i for i in spooled if i not in got]
        try:
            wait_for(lambda: not missing(), 20, "every spooled record delivered")
        except AssertionError:
            self.fail("%d of %d spooled records never delivered after one flipped header "
                      "byte:\n%s" % (len(missing()), len(spooled), agent.stderr()))
        s = self.status(agent)
        self.assertEqual(s["loss"]["corrupt_frames"], 0, s)
        self.assertEqual(s["loss"]["dropped"], 0, s)
        self.assertIn("damaged header", agent.stderr())
        self.assertEqual(agent.stop(), 0, agent.stderr())
        self.assertEqual([os.path.basename(p) for p in
                          glob.glob(os.path.join(state, "spool", "http", "*.corrupt-*"))], [])


if __name__ == "__main__":
    faults.main()
