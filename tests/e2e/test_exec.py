"""The exec check with real scripts: exit codes, messages, perfdata, timeouts,
command words and environment, and check-config on the command."""

import os
import unittest

import harness
from harness import Agent, Workdir, events, run_cli, wait_for


def gone_or_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


class Exec(harness.AgentTestCase):
    def script(self, name, body):
        return self.w.write(name, "#!/bin/sh\n" + body, mode=0o755)

    def start(self, body, env=None):
        path = self.w.write("agent.ini", "[agent]\nstate_dir = %s\ninterval = 300ms\n%s\n" % (
            self.w.file("state"), body))
        a = Agent(self.w, path, env=env).start()
        self.agents.append(a)
        return a

    def event(self, a, check, state, previous="any"):
        return a.wait_record(
            lambda r: r["kind"] == "event" and r["check"] == check and r["state"] == state
            and (previous == "any" or r["previous_state"] == previous),
            what="%s going %s" % (check, state))

    def test_exit_codes_drive_the_state_and_the_first_line_is_the_message(self):
        code = self.w.write("code", "0\n")
        s = self.script("check_thing", "read code < %s\n"
                        "echo \"  THING state $code is here  | x=1\"\n"
                        "echo second line\n"
                        "echo on stderr, never shown >&2\n"
                        "exit $code\n" % code)
        # unknown_after is out of reach: an exit code of 3 must be unknown at once.
        a = self.start("[exec thing]\ncommand = %s\nunknown_after = 1000\n" % s)

        def step(n, state, previous):
            self.w.write("code", "%d\n" % n)
            e = self.event(a, "thing", state, previous)
            self.assertEqual(e["message"], "THING state %d is here" % n)
            self.assertEqual(e["plugin"], "exec")
            if state != "ok":
                self.assertEqual(e["metric"], "status")
                self.assertEqual(e["value"], n)
                self.assertIsNone(e["rule"])
            return e

        first = self.event(a, "thing", "ok", None)
        self.assertEqual(first["message"], "THING state 0 is here")
        step(1, "warning", "ok")
        step(2, "critical", "warning")
        step(3, "unknown", "critical")
        step(0, "ok", "unknown")
        step(4, "unknown", "ok")
        states = [(e["previous_state"], e["state"]) for e in events(a.records(), "thing")]
        self.assertEqual(states, [(None, "ok"), ("ok", "warning"), ("warning", "critical"),
                                  ("critical", "unknown"), ("unknown", "ok"), ("ok", "unknown")])
        self.assertEqual(a.stop(), 0)
        # The command's output is captured: stdout holds records only (records()
        # parses every line) and nothing of it reaches the agent's logs.
        self.assertTrue(a.records())
        with open(a.out_path) as f:
            self.assertNotIn("second line", f.read())
        self.assertNotIn("on stderr", a.stderr())

    def test_a_command_past_its_timeout_is_killed_and_goes_unknown(self):
        pids = self.w.file("pids")
        s = self.script("hang", "sleep 30 &\necho $! >> %s\necho started\nwait\n" % pids)
        a = self.start("[exec hang]\ncommand = %s\ninterval = 500ms\ntimeout = 300ms\n"
                       "unknown_after = 2\n" % s)
        e = self.event(a, "hang", "unknown", None)
        self.assertIn("timed out", e["message"])
        self.assertIsNone(e["metric"])
        self.assertIsNone(e["value"])
        # The whole process group was killed, the child in the background too.
        with open(pids) as f:
            first = int(f.readline())
        wait_for(lambda: gone_or_zombie(first), timeout=20, what="the killed command's child")
        self.assertFalse(a.exited())
        self.assertEqual(a.stop(), 0)

    def test_perfdata_becomes_metrics_that_rules_use(self):
        s = self.script("check_disk", "echo \"DISK OK - fine | 'used space'=80%;90;95 "
                        "load=2.5\"\necho \"long output | '/var'=2GB;;;0; t=250ms\"\n")
        a = self.start("\n".join([
            "[exec disk]", "command = %s" % s, "warning = used_space > 70",
            "critical = used_space > 90",
            "[exec load]", "command = %s" % s, "critical = load == 2.5",
            "[exec var]", "command = %s" % s, "warning = _var >= 2GiB",
            "critical = t > 0.25s",
            ""]))
        e = self.event(a, "disk", "warning", None)
        self.assertEqual(e["metric"], "used_space")
        self.assertEqual(e["value"], 80)
        self.assertEqual(e["rule"], "used_space > 70")
        e = self.event(a, "load", "critical", None)
        self.assertEqual(e["metric"], "load")
        self.assertEqual(e["value"], 2.5)
        e = self.event(a, "var", "warning", None)
        self.assertEqual(e["metric"], "_var")
        self.assertEqual(e["value"], 2 * 1024 ** 3)
        self.assertEqual([x["state"] for x in events(a.records(), "var")], ["warning"])
        self.assertEqual(a.stop(), 0)

    def test_command_words_are_split_without_a_shell_and_the_environment_is_fixed(self):
        s = self.script("args", "echo \"n=$# 1=[$1] 2=[$2] 3=[$3] secret=[$VIGIL_SECRET] "
                        "lang=[$LANG] path=[$PATH]\"\n")
        a = self.start("[exec args]\ncommand = %s 'a  b' $HOME \"c\\\"d\"\n" % s,
                       env={"VIGIL_SECRET": "hunter2"})
        e = self.event(a, "args", "ok", None)
        self.assertEqual(e["message"],
                         "n=3 1=[a  b] 2=[$HOME] 3=[c\"d] secret=[] lang=[C] "
                         "path=[/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin]")
        self.assertEqual(a.stop(), 0)

    def test_check_config_reports_a_command_that_cannot_run_at_its_line(self):
        plain = self.w.write("not_executable.sh", "#!/bin/sh\nexit 0\n", mode=0o644)
        path = self.w.write("bad.ini", "\n".join([
            "[agent]",
            "state_dir = %s" % self.w.file("state"),
            "[exec plain]",
            "interval = 1s",
            "command = %s --flag" % plain,
            "[exec missing]",
            "command = %s" % self.w.file("no_such_script"),
            "[exec fine]",
            "command = %s" % self.script("fine", "exit 0\n"),
            ""]))
        r = run_cli(["check-config", "-c", path])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = r.stdout.strip().splitlines()
        self.assertEqual(len(lines), 2, lines)
        self.assertTrue(lines[0].startswith(path + ":5: "), lines)
        self.assertIn("not_executable.sh", lines[0])
        self.assertTrue(lines[1].startswith(path + ":7: "), lines)
        self.assertIn("no_such_script", lines[1])
        self.assertFalse(os.path.exists(self.w.file("state")))
        os.chmod(plain, 0o755)
        self.script("no_such_script", "exit 0\n")
        r = run_cli(["check-config", "-c", path])
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "ok"), r.stdout + r.stderr)


if __name__ == "__main__":
    harness.main()
