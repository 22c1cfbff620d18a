"""`vigil once`: one JSON object per enabled check, in configuration order."""

import json
import os
import unittest

import harness
from harness import Workdir, run_cli


class Once(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()

    def tearDown(self):
        self.w.cleanup()

    def test_prints_one_object_per_check_with_sane_values(self):
        state = self.w.file("state")
        path = self.w.write("v.ini", "\n".join([
            "[agent]", "state_dir = " + state,
            "[cpu]", "[memory]", "[load]",
            "[disk tmp]", "path = " + self.w.path,
            "[disk off]", "path = /", "enabled = false",
            "[disk gone]", "path = " + self.w.file("missing"),
            "",
        ]))
        r = run_cli(["once", "-c", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [json.loads(l) for l in r.stdout.strip().splitlines()]
        self.assertEqual([l["name"] for l in lines], ["cpu", "memory", "load", "tmp", "gone"])
        by = {l["name"]: l for l in lines}
        for l in lines:
            self.assertEqual(set(l), {"name", "plugin", "state", "metrics", "error"})
        self.assertEqual(by["cpu"]["state"], "ok")
        self.assertTrue(0 <= by["cpu"]["metrics"]["usage_percent"] <= 100)
        self.assertTrue(0 < by["memory"]["metrics"]["used_percent"] < 100)
        self.assertGreater(by["memory"]["metrics"]["available_bytes"], 0)
        self.assertGreaterEqual(by["load"]["metrics"]["load1"], 0)
        self.assertTrue(0 <= by["tmp"]["metrics"]["used_percent"] <= 100)
        self.assertGreater(by["tmp"]["metrics"]["free_bytes"], 0)
        self.assertIsNone(by["tmp"]["error"])
        self.assertEqual(by["gone"]["state"], "unknown")
        self.assertIn("missing", by["gone"]["error"])
        # once writes nothing under state_dir.
        self.assertFalse(os.path.exists(state))

    def test_rules_apply_but_for_never_fires(self):
        path = self.w.write("v.ini", "\n".join([
            "[agent]", "state_dir = " + self.w.file("state"),
            "[disk now]", "path = " + self.w.path, "critical = used_percent >= 0",
            "[disk later]", "path = " + self.w.path, "critical = used_percent >= 0 for 1s",
            "",
        ]))
        r = run_cli(["once", "-c", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        by = {json.loads(l)["name"]: json.loads(l) for l in r.stdout.strip().splitlines()}
        self.assertEqual(by["now"]["state"], "critical")
        self.assertEqual(by["later"]["state"], "ok")

    def test_a_check_past_its_timeout_is_reported_and_once_returns(self):
        # A command that ignores SIGTERM outlives its timeout; `once` reports the
        # failure and exits instead of waiting for it.
        path = self.w.write("v.ini", "\n".join([
            "[agent]", "state_dir = " + self.w.file("state"),
            "[exec stuck]", "command = /bin/sh -c 'trap \"\" TERM; sleep 30'", "timeout = 1s",
            "[load]",
            "",
        ]))
        r = run_cli(["once", "-c", path], timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        by = {json.loads(l)["name"]: json.loads(l) for l in r.stdout.strip().splitlines()}
        self.assertEqual(by["stuck"]["state"], "unknown")
        self.assertIn("timed out", by["stuck"]["error"])
        self.assertEqual(by["load"]["state"], "ok")

    def test_procfs_fixture_tree_is_read(self):
        proc = os.path.join(self.w.path, "proc")
        os.makedirs(proc)
        self.w.write("proc/loadavg", "3.50 2.00 1.00 2/300 12345\n")
        self.w.write("proc/stat", "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\n"
                     "cpu1 50 0 50 400 0 0 0 0 0 0\n")
        path = self.w.write("v.ini", "\n".join([
            "[agent]", "state_dir = " + self.w.file("state"), "procfs = " + proc,
            "[load]", "warning = load1_per_cpu > 1.5", "",
        ]))
        r = run_cli(["once", "-c", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        line = json.loads(r.stdout.strip())
        self.assertEqual(line["metrics"]["load1"], 3.5)
        self.assertEqual(line["metrics"]["load1_per_cpu"], 1.75)
        self.assertEqual(line["state"], "warning")


if __name__ == "__main__":
    harness.main()
