"""The service: systemd/vigil.service passes `systemd-analyze verify` and scores
at most 2.0 in `systemd-analyze security`; the agent speaks sd_notify (READY,
STATUS, WATCHDOG, RELOADING, STOPPING) to $NOTIFY_SOCKET and prefixes its log
lines with syslog priorities under journald (JOURNAL_STREAM)."""

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import unittest

import harness
from harness import Agent, Workdir, wait_for

ANALYZE = shutil.which("systemd-analyze")


def unit_text():
    with open(os.path.join(harness.SOURCE, "systemd", "vigil.service")) as f:
        return f.read()


def directives(text):
    """The unit's KEY=VALUE lines, as (key, value) pairs in order."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, value = line.split("=", 1)
            out.append((key.strip(), value.strip()))
    return out


class Unit(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()

    def tearDown(self):
        self.w.cleanup()

    def local_copy(self, exec_path=None):
        """The unit with ExecStart on the built binary and a real config file;
        systemd-analyze verify checks that both exist."""
        config = self.w.write("vigil.ini", "[agent]\nstate_dir = %s\n[load]\n"
                              % self.w.file("state"))
        text = unit_text()
        self.assertIn("ExecStart=/usr/bin/vigil run -c /etc/vigil/vigil.ini", text)
        text = text.replace("/usr/bin/vigil", exec_path or harness.VIGIL)
        text = text.replace("/etc/vigil/vigil.ini", config)
        return self.w.write("vigil.service", text)

    def test_unit_declares_notify_watchdog_user_and_state(self):
        d = dict(directives(unit_text()))
        self.assertEqual(d["Type"], "notify")
        self.assertEqual(d["ExecReload"], "/bin/kill -HUP $MAINPID")
        self.assertIn("WatchdogSec", d)
        self.assertEqual(d["StateDirectory"], "vigil")
        self.assertEqual(d["StateDirectoryMode"], "0750")
        self.assertEqual(d["User"], "vigil")
        self.assertEqual(d["SupplementaryGroups"], "adm")
        self.assertEqual(d["NoNewPrivileges"], "yes")
        self.assertEqual(d["ProtectHome"], "read-only")
        self.assertEqual(d["CapabilityBoundingSet"], "")
        # What a host monitor cannot live with: a partial /proc, a hidden
        # /home, no JIT for PCRE2.
        for banned in ("ProcSubset", "ProtectProc", "MemoryDenyWriteExecute", "PrivateUsers"):
            self.assertNotIn(banned, d)

    @unittest.skipIf(ANALYZE is None, "systemd-analyze is not installed (apt-get install systemd)")
    def test_verify_passes(self):
        path = self.local_copy()
        r = subprocess.run([ANALYZE, "verify", path], capture_output=True, text=True, timeout=60)
        print("systemd-analyze verify:", r.returncode, r.stdout + r.stderr)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    @unittest.skipIf(ANALYZE is None, "systemd-analyze is not installed (apt-get install systemd)")
    def test_verify_catches_a_missing_binary(self):
        # The check above means something: verify fails on a bad ExecStart.
        path = self.local_copy(exec_path=self.w.file("no-such-vigil"))
        r = subprocess.run([ANALYZE, "verify", path], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no-such-vigil", r.stdout + r.stderr)

    @unittest.skipIf(ANALYZE is None, "systemd-analyze is not installed (apt-get install systemd)")
    def test_security_exposure_at_most_2_0(self):
        path = self.local_copy()
        # --threshold is in tenths: exit non-zero when the exposure is above 2.0.
        r = subprocess.run([ANALYZE, "security", "--offline=true", "--threshold=20", path],
                           capture_output=True, text=True, timeout=60)
        out = r.stdout + r.stderr
        m = re.search(r"Overall exposure level for vigil\.service: (\d+\.\d+)", out)
        self.assertIsNotNone(m, out)
        score = float(m.group(1))
        print("systemd-analyze security: overall exposure %.1f (at most 2.0 allowed)" % score)
        self.assertLessEqual(score, 2.0, out)
        self.assertEqual(r.returncode, 0, out)


class Notify(unittest.TestCase):
    """A datagram socket stands in for systemd's notification socket."""

    def setUp(self):
        self.w = Workdir()
        self.agent = None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.messages = []
        self.lock = threading.Lock()
        self.reader = None

    def tearDown(self):
        if self.agent and self.agent.proc and self.agent.proc.poll() is None:
            self.agent.kill9()
        self.sock.close()
        if self.reader:
            self.reader.join(5)
        self.w.cleanup()

    def bind(self, abstract=False):
        if abstract:
            name = "vigil-e2e-notify-%d-%d" % (os.getpid(), id(self))
            self.sock.bind("\0" + name)
            address = "@" + name
        else:
            address = self.w.file("notify.sock")
            self.sock.bind(address)
        # Read all the time, as systemd does: a full queue would drop messages.
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()
        return address

    def read(self):
        self.sock.settimeout(0.1)
        while True:
            try:
                m = self.sock.recv(4096).decode()
            except socket.timeout:
                continue
            except OSError:
                return  # closed at teardown
            with self.lock:
                self.messages.append(m)

    def receive(self):
        with self.lock:
            return list(self.messages)

    def fields(self, key):
        """Indexes of the messages that carry KEY=..., with the value."""
        out = []
        for i, m in enumerate(self.receive()):
            for line in m.split("\n"):
                if line.startswith(key + "="):
                    out.append((i, line[len(key) + 1:]))
        return out

    def wait_field(self, key, value=None, after=-1, what=None):
        def found():
            for i, v in self.fields(key):
                if i > after and (value is None or v == value):
                    return (i, v)
            return None
        return wait_for(found, 30, what or "%s=%s" % (key, value or "..."))

    def start(self, notify_socket, env=None, body="[load]\n"):
        self.config = self.w.write("vigil.ini", "[agent]\ninterval = 200ms\nstate_dir = %s\n%s"
                                   % (self.w.file("state"), body))
        e = {"NOTIFY_SOCKET": notify_socket, "WATCHDOG_USEC": "400000"}
        e.update(env or {})
        self.agent = Agent(self.w, self.config, env=e).start()
        # Agent() drops NOTIFY_SOCKET from the inherited environment; ours wins.
        return self.agent

    def test_ready_watchdog_reload_stop(self):
        a = self.start(self.bind())
        ready, _ = self.wait_field("READY", "1")
        status = self.fields("STATUS")
        self.assertTrue(any(i == ready and v for i, v in status),
                        "READY=1 comes with a STATUS= line: %r" % self.messages)
        # WATCHDOG_USEC=400000: pings every 200 ms, several within a few seconds.
        wait_for(lambda: len(self.fields("WATCHDOG")) >= 3, 30, "three WATCHDOG=1 pings")
        self.assertTrue(all(v == "1" for _, v in self.fields("WATCHDOG")))

        a.signal(signal.SIGHUP)
        reloading, _ = self.wait_field("RELOADING", "1", after=ready)
        self.wait_field("READY", "1", after=reloading, what="READY=1 after RELOADING=1")
        self.assertIsNone(a.proc.poll())

        a.signal(signal.SIGTERM)
        self.assertEqual(a.proc.wait(30), 0)
        stopping = self.wait_field("STOPPING", "1")
        self.assertGreater(stopping[0], reloading)

    def test_reload_of_a_broken_config_still_answers_ready(self):
        # systemctl reload waits for READY=1: a refused config must not leave
        # the unit "reloading" forever.
        a = self.start(self.bind(abstract=True))
        ready, _ = self.wait_field("READY", "1")
        with open(self.config, "a") as f:
            f.write("[agent]\nbogus = 1\n")
        a.signal(signal.SIGHUP)
        reloading, _ = self.wait_field("RELOADING", "1", after=ready)
        self.wait_field("READY", "1", after=reloading, what="READY=1 after a refused reload")
        wait_for(lambda: "keeping the running one" in a.stderr(), 30, "the refusal in the log")
        self.assertIsNone(a.proc.poll())
        wait_for(lambda: any(i > reloading for i, _ in self.fields("WATCHDOG")), 30,
                 "watchdog pings after the refused reload")
        self.assertEqual(a.stop(30), 0)

    def test_a_manager_that_does_not_read_never_stalls_the_agent(self):
        # Nobody reads this socket: its queue fills after a few pings. The loop
        # must go on (heartbeats) and SIGTERM must still stop the agent.
        path = self.w.file("notify.sock")
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
        self.sock.bind(path)
        a = self.start(path, env={"WATCHDOG_USEC": "20000"}, body="heartbeat = 200ms\n[load]\n")
        wait_for(lambda: len([r for r in a.records() if r["kind"] == "heartbeat"]) >= 10, 30,
                 "ten heartbeats while the notify queue is full")
        self.assertEqual(a.stop(30), 0)

    def test_watchdog_for_another_pid_sends_no_pings(self):
        # WATCHDOG_PID names the process the watchdog is meant for (a wrapper
        # may pass its environment on): another pid means no pings.
        a = self.start(self.bind(), env={"WATCHDOG_PID": "1"}, body="heartbeat = 200ms\n[load]\n")
        self.wait_field("READY", "1")
        # Three heartbeats 200 ms apart: the loop ran past two watchdog periods.
        wait_for(lambda: len([r for r in a.records() if r["kind"] == "heartbeat"]) >= 3, 30,
                 "three heartbeats")
        self.assertEqual(self.fields("WATCHDOG"), [])
        self.assertEqual(a.stop(30), 0)


class Journal(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()
        self.agent = None

    def tearDown(self):
        if self.agent and self.agent.proc and self.agent.proc.poll() is None:
            self.agent.kill9()
        self.w.cleanup()

    def test_every_stderr_line_has_a_priority_under_journald(self):
        config = self.w.write("vigil.ini", "[agent]\ninterval = 200ms\nstate_dir = %s\n[load]\n"
                              % self.w.file("state"))
        a = self.agent = Agent(self.w, config, env={"JOURNAL_STREAM": "8:12345"}).start()
        wait_for(lambda: "started" in a.stderr(), 30, "the start line")
        with open(config, "a") as f:
            f.write("bogus = 1\n")
        a.signal(signal.SIGHUP)
        wait_for(lambda: "keeping the running one" in a.stderr(), 30, "the refused reload")
        self.assertEqual(a.stop(30), 0)
        lines = a.stderr().splitlines()
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^<[0-7]>", "every line has a priority")
        self.assertTrue(any(l.startswith("<6>") and "started" in l for l in lines), lines)
        self.assertTrue(any(l.startswith("<3>") and "bogus" in l for l in lines), lines)

    def test_config_errors_at_start_have_a_priority_too(self):
        config = self.w.write("vigil.ini", "[agent]\nstate_dir = %s\nbogus = 1\n"
                              % self.w.file("state"))
        r = harness.run_cli(["run", "-c", config], env={"JOURNAL_STREAM": "8:12345"})
        self.assertEqual(r.returncode, 1)
        lines = r.stderr.splitlines()
        self.assertTrue(any("bogus" in l for l in lines), lines)
        for line in lines:
            self.assertRegex(line, r"^<3>")

    def test_no_priority_without_journald(self):
        config = self.w.write("vigil.ini", "[agent]\ninterval = 200ms\nstate_dir = %s\n[load]\n"
                              % self.w.file("state"))
        a = self.agent = Agent(self.w, config).start()
        wait_for(lambda: "started" in a.stderr(), 30, "the start line")
        self.assertEqual(a.stop(30), 0)
        for line in a.stderr().splitlines():
            self.assertNotRegex(line, r"^<\d>")


if __name__ == "__main__":
    harness.main()
