"""The process check with real processes: a daemon killed with -9 and started
again, restarts, and matching by name, user, command line and pidfile."""

import os
import pwd
import re
import secrets
import shutil
import subprocess
import unittest

import harness
from harness import Agent, Workdir, events


class Process(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()
        self.agents = []
        self.procs = []
        # A copy of sleep under a name no other process has (comm: at most 15 bytes).
        self.name = "vz" + secrets.token_hex(5)
        self.binary = self.w.file(self.name)
        shutil.copy("/bin/sleep", self.binary)

    def tearDown(self):
        for a in self.agents:
            if a.proc and a.proc.poll() is None:
                a.kill9()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.w.cleanup()

    def spawn(self, *args):
        p = subprocess.Popen([self.binary, "1000"] + list(args))
        self.procs.append(p)
        return p

    def kill9(self, p):
        p.kill()
        p.wait()  # reaped: no zombie left behind

    def start(self, body):
        path = self.w.write("agent.ini", "[agent]\nstate_dir = %s\ninterval = 300ms\n%s\n" % (
            self.w.file("state"), body))
        a = Agent(self.w, path).start()
        self.agents.append(a)
        return a

    def event(self, a, check, state, previous="any"):
        return a.wait_record(
            lambda r: r["kind"] == "event" and r["check"] == check and r["state"] == state
            and (previous == "any" or r["previous_state"] == previous),
            what="%s going %s" % (check, state))

    def test_kill9_goes_critical_a_new_process_recovers_and_counts_a_restart(self):
        self.spawn()
        a = self.start("[process daemon]\nname = %s\ncritical = count < 1\n"
                       "[process daemon_restarts]\nname = %s\nwarning = restarts >= 1\n"
                       "window = 1h\n" % (self.name, self.name))
        self.event(a, "daemon", "ok", previous=None)
        self.event(a, "daemon_restarts", "ok", previous=None)
        self.kill9(self.procs[0])
        e = self.event(a, "daemon", "critical", previous="ok")
        self.assertEqual(e["plugin"], "process")
        self.assertEqual(e["metric"], "count")
        self.assertEqual(e["value"], 0)
        self.assertEqual(e["rule"], "count < 1")
        inc = a.wait_record(lambda r: r["kind"] == "incident" and r["check"] == "daemon"
                            and r["action"] == "open", what="the incident")
        self.assertEqual(inc["severity"], "critical")
        self.spawn()
        ok = self.event(a, "daemon", "ok", previous="critical")
        self.assertEqual(ok["metric"], "count")
        self.assertEqual(ok["value"], 1)
        r = self.event(a, "daemon_restarts", "warning", previous="ok")
        self.assertEqual(r["metric"], "restarts")
        self.assertEqual(r["value"], 1)
        a.wait_record(lambda r: r["kind"] == "incident" and r["check"] == "daemon"
                      and r["action"] == "resolve", what="the resolve")
        states = [(e["previous_state"], e["state"]) for e in events(a.records(), "daemon")]
        self.assertEqual(states, [(None, "ok"), ("ok", "critical"), ("critical", "ok")])
        self.assertEqual(a.stop(), 0)

    def test_user_and_cmdline_select_processes(self):
        token = "0.%d" % secrets.randbelow(10 ** 9)
        p = self.spawn(token)
        uid = os.getuid()
        other = 65534 if uid != 65534 else 0
        user = pwd.getpwuid(uid).pw_name
        a = self.start("\n".join([
            "[process by_user_name]", "name = %s" % self.name, "user = %s" % user,
            "critical = count < 1",
            "[process by_uid]", "name = %s" % self.name, "user = %d" % uid,
            "critical = count < 1",
            "[process other_user]", "name = %s" % self.name, "user = %d" % other,
            "critical = count < 1",
            "[process by_cmdline]", "cmdline = %s 1000 %s$" % (self.name, re.escape(token)),
            "warning = count >= 1",
            "[process cmdline_miss]", "cmdline = %s 1000 %s9" % (self.name, re.escape(token)),
            "warning = count >= 1",
            # The agent itself never matches, even by its own command line.
            "[process itself]", "cmdline = %s" % re.escape(self.w.file("agent.ini")),
            "critical = count < 1",
            ""]))
        self.event(a, "by_user_name", "ok", previous=None)
        self.event(a, "by_uid", "ok", previous=None)
        e = self.event(a, "other_user", "critical", previous=None)
        self.assertEqual(e["value"], 0)
        e = self.event(a, "by_cmdline", "warning", previous=None)
        self.assertEqual(e["value"], 1)
        self.event(a, "cmdline_miss", "ok", previous=None)
        self.event(a, "itself", "critical", previous=None)
        self.kill9(p)
        self.event(a, "by_user_name", "critical", previous="ok")
        self.event(a, "by_cmdline", "ok", previous="warning")
        self.assertEqual(a.stop(), 0)

    def test_pidfile_follows_the_process_it_names(self):
        pidfile = self.w.file("run/daemon.pid")
        os.makedirs(os.path.dirname(pidfile))

        def write_pid(text):
            with open(pidfile + ".tmp", "w") as f:
                f.write(text)
            os.rename(pidfile + ".tmp", pidfile)

        first = self.spawn()
        self.spawn()  # the same name, not in the pidfile
        write_pid("%d\n" % first.pid)
        a = self.start("[process daemon]\npidfile = %s\ncritical = count < 1\n"
                       "warning = count > 1\n" % pidfile)
        self.event(a, "daemon", "ok", previous=None)
        self.kill9(first)
        e = self.event(a, "daemon", "critical", previous="ok")
        self.assertEqual(e["value"], 0)
        second = self.spawn()
        write_pid("%d\n" % second.pid)
        self.event(a, "daemon", "ok", previous="critical")
        write_pid("not a pid\n")
        self.event(a, "daemon", "critical", previous="ok")
        states = [e["state"] for e in events(a.records(), "daemon")]
        self.assertNotIn("warning", states)
        self.assertEqual(a.stop(), 0)


if __name__ == "__main__":
    harness.main()
