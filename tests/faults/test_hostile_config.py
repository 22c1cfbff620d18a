"""A hostile configuration folder, and secrets in broken configuration lines.

A FIFO matched by the include glob made `check-config` wait forever for a
writer, and a SIGHUP reload wedge the agent's loop the same way; a folder, a
device or a link to any of them is no better. A `header` line without its colon
was reported with its whole value, an API key printed to the terminal or the
journal. Here: every such include is an error at once, the agent keeps running
on a reload that meets one, and no error shows a secret.
"""

import os
import signal
import subprocess

import faults
from faults import AgentTestCase, wait_for
from harness import Agent, run_cli

SECRETS = ["sk-live-4f9a2c1e", "sk-url-pass-77", "sk-proxy-pass-31", "sk-query-key-12"]
# An output whose lines each hold a secret in a broken value.
BAD_OUTPUT = (
    "[output leaky]\n"
    "url = htps://user:sk-url-pass-77@example.test/in?api_key=sk-query-key-12\n"
    "header = X-Api-Key sk-live-4f9a2c1e\n"
    "proxy = http://user:sk-proxy-pass-31@proxy.test:3128\n")


class HostileConfig(AgentTestCase):
    def main_config(self, body=""):
        return self.w.write("vigil.ini", (
            "[agent]\nstate_dir = %s\ninterval = 200ms\nheartbeat = 0\nstatus_listen = off\n"
            "[load]\n%s") % (self.w.file("state"), body))

    def hostile_includes(self):
        """conf.d with a good file, a FIFO, a link to it, a folder and a device."""
        conf = self.w.file("conf.d")
        os.makedirs(os.path.join(conf, "folder.ini"))
        self.w.write("conf.d/a-good.ini", "[memory]\n")
        fifo = os.path.join(conf, "b-fifo.ini")
        os.mkfifo(fifo)
        os.symlink(fifo, os.path.join(conf, "c-link.ini"))
        os.symlink("/dev/zero", os.path.join(conf, "d-zero.ini"))
        return ["b-fifo.ini", "c-link.ini", "d-zero.ini", "folder.ini"]

    def check_config(self, path):
        try:
            return run_cli(["check-config", "-c", path], timeout=20)
        except subprocess.TimeoutExpired:
            self.fail("check-config hung on the configuration folder")

    def assert_no_secret(self, text):
        for secret in SECRETS:
            self.assertNotIn(secret, text)

    def test_check_config_reports_what_is_not_a_regular_file_and_does_not_wait(self):
        names = self.hostile_includes()
        r = self.check_config(self.main_config())
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), len(names), r.stdout)
        for line, name in zip(lines, names):
            self.assertIn(os.path.join(self.w.file("conf.d"), name), line)
            self.assertIn("not a regular file", line)
        self.assertIn("is a FIFO", lines[0])
        self.assertIn("is a FIFO", lines[1])  # through the link
        self.assertIn("is a character device", lines[2])
        self.assertIn("is a folder", lines[3])

    def test_errors_never_show_a_secret(self):
        path = self.main_config(BAD_OUTPUT)
        r = self.check_config(path)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("header: expected 'Name: value'", r.stdout)
        self.assertIn("url: invalid url", r.stdout)
        self.assertIn("proxy:", r.stdout)
        self.assert_no_secret(r.stdout + r.stderr)

        r = run_cli(["run", "-c", path], timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertIn("header: expected 'Name: value'", r.stderr)
        self.assert_no_secret(r.stdout + r.stderr)

    def start_agent(self):
        a = Agent(self.w, self.main_config()).start()
        self.agents.append(a)
        a.wait_record(lambda r: r.get("kind") == "event" and r["check"] == "load",
                      what="the first load event")
        return a

    def reload(self, a):
        """SIGHUP; the agent must answer with the verdict on the new configuration."""
        before = a.stderr().count("keeping the running one")
        a.signal(signal.SIGHUP)
        wait_for(lambda: a.stderr().count("keeping the running one") > before, 20,
                 "the agent to refuse the reloaded configuration")

    def test_a_reload_meeting_a_fifo_is_refused_and_the_agent_runs_on(self):
        a = self.start_agent()
        self.hostile_includes()
        self.reload(a)
        log = a.stderr()
        self.assertIn("b-fifo.ini is a FIFO, not a regular file", log)
        # The loop is not wedged: the agent still serves a clean reload and stops on SIGTERM.
        for name in ("b-fifo.ini", "c-link.ini", "d-zero.ini"):
            os.unlink(self.w.file("conf.d/" + name))
        os.rmdir(self.w.file("conf.d/folder.ini"))
        a.signal(signal.SIGHUP)
        wait_for(lambda: "reload: 2 check(s)" in a.stderr(), 20, "a clean reload")
        self.assertFalse(a.exited(), a.stderr())
        self.assertEqual(a.stop(), 0)

    def test_a_reload_with_a_secret_in_a_broken_line_never_logs_it(self):
        a = self.start_agent()
        self.main_config(BAD_OUTPUT)
        self.reload(a)
        log = a.stderr()
        self.assertIn("header: expected 'Name: value'", log)
        self.assert_no_secret(log)
        self.assertFalse(a.exited(), log)
        self.assertEqual(a.stop(), 0)
        self.assert_no_secret(a.stderr())
        with open(a.out_path) as f:
            self.assert_no_secret(f.read())


if __name__ == "__main__":
    faults.main()
