"""The command line: version, help, usage errors, check-config."""

import os
import unittest

import harness
from harness import Workdir, run_cli


class CommandLine(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()

    def tearDown(self):
        self.w.cleanup()

    def test_version_prints_the_version(self):
        r = run_cli(["--version"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^vigil \d+\.\d+\.\d+")

    def test_help_lists_the_commands(self):
        r = run_cli(["--help"])
        self.assertEqual(r.returncode, 0)
        for cmd in ("run", "check-config", "once", "status", "silence add", "silence list",
                    "silence expire", "ack"):
            self.assertIn(cmd, r.stdout)

    def test_unknown_command_is_a_usage_error(self):
        self.assertEqual(run_cli(["frobnicate"]).returncode, 2)
        self.assertEqual(run_cli([]).returncode, 2)
        self.assertEqual(run_cli(["run", "-c"]).returncode, 2)
        self.assertEqual(run_cli(["silence"]).returncode, 2)
        self.assertEqual(run_cli(["silence", "mute"]).returncode, 2)
        self.assertEqual(run_cli(["silence", "add", "check=x", "--for"]).returncode, 2)
        self.assertEqual(run_cli(["silence", "expire"]).returncode, 2)
        self.assertEqual(run_cli(["ack"]).returncode, 2)
        self.assertEqual(run_cli(["ack", "a", "b"]).returncode, 2)

    def test_check_config_accepts_the_default_config(self):
        r = run_cli(["check-config", "-c", os.path.join(harness.SOURCE, "conf", "vigil.ini")])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.strip(), "ok")

    def test_check_config_accepts_every_example(self):
        folder = os.path.join(harness.SOURCE, "conf", "examples")
        for name in sorted(os.listdir(folder)):
            if name.endswith(".ini"):
                r = run_cli(["check-config", "-c", os.path.join(folder, name)])
                self.assertEqual(r.returncode, 0, name + ": " + r.stdout + r.stderr)

    def test_check_config_reports_every_error_with_file_and_line(self):
        path = self.w.write("bad.ini", "\n".join([
            "[agent]",
            "interval = 10 parsecs",
            "[cpu]",
            "warning = usage_percent >> 3",
            "[nosuchplugin]",
            "[disk root]",
            "bogus = 1",
            "",
        ]))
        r = run_cli(["check-config", "-c", path])
        self.assertEqual(r.returncode, 1)
        lines = r.stdout.strip().splitlines()
        self.assertTrue(any(l.startswith(path + ":2: ") for l in lines), lines)
        self.assertTrue(any(l.startswith(path + ":4: ") for l in lines), lines)
        self.assertTrue(any(l.startswith(path + ":5: ") for l in lines), lines)
        # [disk root] lacks its required path (at the header) and has an unknown key.
        self.assertTrue(any(l.startswith(path + ":6: ") for l in lines), lines)
        self.assertTrue(any(l.startswith(path + ":7: ") for l in lines), lines)

    def test_config_from_environment_variable(self):
        path = self.w.write("env.ini", "[agent]\nstate_dir = %s\n[load]\n" % self.w.file("st"))
        r = run_cli(["check-config"], env={"VIGIL_CONFIG": path})
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_run_refuses_an_invalid_config(self):
        path = self.w.write("bad.ini", "[cpu]\nwarning = nope\n")
        r = run_cli(["run", "-c", path])
        self.assertEqual(r.returncode, 1)
        self.assertIn(path + ":2:", r.stderr)
        self.assertEqual(r.stdout, "")


if __name__ == "__main__":
    harness.main()
