"""A `file:` output whose disk fills up in the middle of a batch.

The disk takes part of a batch, then answers ENOSPC. The output retries, and
once there is room again the batch is written whole. A reader of the file must
never meet the half-written start of that batch followed by the whole batch
again (a torn JSON line), and every record must end up in the file, once.
"""

import json
import os

import faults
from faults import harness, wait_for

faults.ensure_root_for_mounts()

# Big records (a tag as long as a config line allows) and a long flush make a
# batch of about 40 records and 16 KiB, far more than the room left on the
# disk, so the disk fills up in the middle of one.
PAD = "p" * 180


class FileOutputFull(faults.FaultTestCase):
    def setUp(self):
        super().setUp()
        self.fs = self.mount("fs", "256k")
        self.out = os.path.join(self.fs.path, "out.jsonl")
        self.cfg = self.w.write("agent.ini", (
            "[agent]\nstate_dir = %s\nheartbeat = 50ms\nstatus_listen = off\n"
            "shutdown_timeout = 2s\ntags = pad=%s\n"
            "[output full]\nurl = file:%s\nflush_interval = 2s\nretry_max = 200ms\n"
            "[output witness]\nurl = file:%s\nflush_interval = 100ms\n")
            % (self.w.file("state"), PAD, self.out, self.w.file("witness.jsonl")))

    def lines(self, path):
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return f.read().split("\n")

    def ids(self, path):
        """Ids of the whole, parseable lines; anything else is skipped here."""
        out = []
        for l in self.lines(path)[:-1]:
            try:
                out.append(json.loads(l)["id"])
            except (ValueError, KeyError):
                pass
        return out

    def test_a_disk_that_fills_mid_batch_leaves_no_torn_line(self):
        a = harness.Agent(self.w, self.cfg).start()
        self.agents.append(a)
        wait_for(lambda: self.ids(self.out), 20, "the first batch in the file")

        # Room for one to two pages: the next batch is cut short by the disk, and
        # its retries fail outright.
        self.fs.fill(keep=4096)
        wait_for(lambda: a.stderr().count("No space left on device") >= 2, 30,
                 "the full disk to fail a write and its retry")

        # Room again: the backlog goes out.
        self.fs.free()
        witnessed = set(self.ids(self.w.file("witness.jsonl")))
        wait_for(lambda: witnessed <= set(self.ids(self.out)), 30,
                 "every record witnessed so far in the file")
        self.assertEqual(a.stop(), 0)

        lines = self.lines(self.out)
        self.assertEqual(lines[-1], "", "the file ends in the middle of a line")
        got = []
        for n, l in enumerate(lines[:-1], 1):
            try:
                got.append(json.loads(l)["id"])
            except ValueError:
                self.fail("line %d is not JSON (a torn line): %r" % (n, l[:200]))
        missing = witnessed - set(got)
        self.assertFalse(missing, "records missing from the file")
        twice = sorted(i for i in set(got) if got.count(i) > 1)
        self.assertFalse(twice, "records written twice")


if __name__ == "__main__":
    faults.main()
