"""The journal check with the real binary on real journal files (written by
systemd-journal-remote, tests/support/journal_fixture.py): matches and priority,
appends while running, restarts, a replaced file, binary messages, an idle
check that writes nothing, and an agent without libsystemd."""

import json
import os
import subprocess
import sys
import unittest

import harness
from harness import AgentTestCase, events, run_cli, wait_for

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from journal_fixture import Journal, available, entry  # noqa: E402

NGINX = "nginx.service"
BINARY_MESSAGE = b"bad \xff\xfe gateway\nsecond line"


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mapped(pid, library):
    with open("/proc/%d/maps" % pid) as f:
        return library in f.read()


@unittest.skipUnless(available(), "systemd-journal-remote is not installed")
class JournalCheck(AgentTestCase):
    def setUp(self):
        super().setUp()
        self.journal = Journal(self.w.file("journal"))
        self.state = self.w.file("state")

    def start(self, checks):
        path = self.w.write("agent.ini", "[agent]\nstate_dir = %s\ninterval = 200ms\n"
                            "heartbeat = 200ms\n%s" % (self.state, checks))
        a = harness.Agent(self.w, path).start()
        self.agents.append(a)
        return a

    def status(self, agent):
        r = run_cli(["status", "-c", agent.config, "--json"], timeout=20)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def check_status(self, agent, check):
        s = self.status(agent)
        for c in (s or {}).get("checks", []):
            if c["name"] == check:
                return c
        return None

    def wait_matches(self, agent, check, n, what):
        def reached():
            c = self.check_status(agent, check)
            return c is not None and c["metrics"].get("matches") == n
        try:
            wait_for(reached, timeout=15, what=what)
        except AssertionError:
            raise AssertionError("%s; last status: %s" % (what, self.check_status(agent, check)))

    def collections(self, agent, check, n):
        """Waits for n more collections of the check; returns its status after them."""
        c = self.check_status(agent, check)
        for _ in range(n):
            last = c["last_run"]
            wait_for(lambda: self.check_status(agent, check)["last_run"] != last, timeout=10,
                     what="another collection")
            c = self.check_status(agent, check)
        return c

    def files_under(self, folder):
        """Every file and folder under `folder` with what a write would change."""
        out = {}
        for root, dirs, files in os.walk(folder):
            for name in dirs + files:
                p = os.path.join(root, name)
                st = os.stat(p)
                out[p] = (st.st_ino, st.st_mtime_ns, st.st_size)
        st = os.stat(folder)
        out[folder] = (st.st_ino, st.st_mtime_ns, st.st_size)
        return out

    def test_selects_counts_appends_resumes_and_survives_a_replaced_file(self):
        self.journal.append([
            entry("upstream timed out while reading", unit=NGINX, priority=3),
            entry("GET / 200", unit=NGINX, priority=6),
            entry("Failed password for root", unit="ssh.service", priority=3),
            entry("kernel: oops", priority=2),
        ])
        a = self.start(
            "[journal nginx]\npath = %s\nmatch = _SYSTEMD_UNIT=%s\npriority = err\n"
            "from = beginning\nwindow = 1h\n"
            "[journal binary]\npath = %s\nmatch = _SYSTEMD_UNIT=%s\ngrep = ^bad\n"
            "window = 300ms\n" % (self.journal.folder, NGINX, self.journal.folder, NGINX))

        # Only the nginx error entry counts, and its MESSAGE is the sample.
        first = a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "nginx",
                              what="the nginx check's first event")
        self.assertEqual(first["state"], "warning")
        self.assertEqual(first["plugin"], "journal")
        self.assertEqual(first["metric"], "matches")
        self.assertEqual(first["value"], 1)
        self.assertEqual(first["samples"], ["upstream timed out while reading"])
        self.assertTrue(mapped(a.proc.pid, "libsystemd.so.0"))
        # from = end: the binary check starts after the entries already there.
        b = a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "binary",
                          what="the binary check's first event")
        self.assertEqual(b["state"], "ok")

        # Appended while running: counted at the next evaluation. One MESSAGE is
        # binary (invalid UTF-8, a newline): the event quoting it is valid JSON.
        self.journal.append([
            entry(BINARY_MESSAGE, unit=NGINX, priority=3),
            entry("upstream crit", unit=NGINX, priority=2),
            entry("info noise", unit=NGINX, priority=6),
        ])
        self.assertIsInstance(self.journal.read()[-3]["MESSAGE"], list)  # stored as bytes
        self.wait_matches(a, "nginx", 3, "the 2 appended error entries counted")
        e = a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "binary"
                          and r["state"] == "warning", what="the binary message's event")
        self.assertEqual(e["samples"], ["bad \ufffd\ufffd gateway\nsecond line"])
        with open(a.out_path, "rb") as f:
            line = next(x for x in f if b'"check":"binary","plugin":"journal","state":"warning"'
                        in x)
        self.assertEqual(json.loads(line.decode("utf-8"))["samples"], e["samples"])

        # Idle: the binary check's window runs out, then nothing moves; the checks'
        # folders (their cursor files) see no write over several collections.
        a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "binary"
                      and r["state"] == "ok" and r["previous_state"] == "warning",
                      what="the binary check back to ok")
        checks = os.path.join(self.state, "checks")
        with open(os.path.join(checks, "nginx", "cursor")) as f:
            self.assertTrue(f.read().startswith("vigil-journal-cursor 1\ncursor s="))
        before = self.files_under(checks)
        self.collections(a, "nginx", 4)
        self.assertEqual(self.files_under(checks), before)

        # SIGTERM, append, restart: each entry counted once; the last entry read
        # before the stop is not read again.
        self.assertEqual(a.stop(), 0)
        self.journal.append([entry("after restart %d" % i, unit=NGINX, priority=3)
                             for i in range(2)])
        a.start()
        self.wait_matches(a, "nginx", 2, "the 2 entries written while stopped")
        c = self.collections(a, "nginx", 3)
        self.assertEqual(c["metrics"]["matches"], 2, c)

        # A new journal file (new seqnum id) takes the file's place: the position
        # is gone. The agent reads the new file from its start, reports the gap
        # through its `vigil` check, and neither loops nor exits.
        self.journal.replace([entry("after replace", unit=NGINX, priority=3)])
        self.wait_matches(a, "nginx", 3, "the replaced file's entry")
        v = a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "vigil"
                          and r["state"] == "warning", what="the vigil check's warning")
        self.assertEqual(v["metric"], "log_bytes_skipped")
        self.assertGreaterEqual(v["value"], 1)
        # Whichever check collected first is named; both lost their position.
        self.assertRegex(v["message"], r"\(check (nginx|binary): journal %s: entries lost unread"
                         % self.journal.folder)
        # One gap each, of unknown size (a new seqnum id): counted once, not again
        # at every later pass.
        wait_for(lambda: self.status(a)["loss"]["log_bytes_skipped"] == 2, timeout=10,
                 what="one gap per journal check")
        cpu = cpu_seconds(a.proc.pid)
        c = self.collections(a, "nginx", 3)
        self.assertEqual(c["metrics"]["matches"], 3, c)
        lost = self.status(a)["loss"]["log_bytes_skipped"]
        self.assertEqual(lost, 2)
        self.assertLess(cpu_seconds(a.proc.pid) - cpu, 0.3, "busy after the replaced file")
        self.assertFalse(a.exited())

        # Rotation (the file renamed to an archive name, a new file in its place)
        # is no gap: the position is still there, under the archived name.
        os.rename(self.journal.path, os.path.join(self.journal.folder, "system@rotated.journal"))
        self.journal.append([entry("after rotation", unit=NGINX, priority=3)])
        self.wait_matches(a, "nginx", 4, "the entry after the rotation")
        self.assertEqual(self.status(a)["loss"]["log_bytes_skipped"], lost)
        self.assertEqual(a.stop(), 0)
        self.assertNotIn("error", a.stderr())

    def test_check_config_without_libsystemd_names_the_section(self):
        # Only a journal check loads libsystemd.
        a = self.start("[load]\n")
        a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "load", what="first")
        self.assertFalse(mapped(a.proc.pid, "libsystemd"))
        self.assertEqual(a.stop(), 0)

        # The library hidden: /dev/null mounted over it in a mount namespace of
        # the command alone.
        import ctypes
        ctypes.CDLL("libsystemd.so.0")
        with open("/proc/self/maps") as f:
            lib = next(line.split()[-1] for line in f if "libsystemd.so.0" in line)
        conf = self.w.write("j.ini", "[agent]\nstate_dir = %s\n\n[journal sshd]\n"
                            "match = _SYSTEMD_UNIT=ssh.service\n" % self.state)
        unshare = ["unshare", "--mount"] if os.geteuid() == 0 else [
            "unshare", "--user", "--map-root-user", "--mount"]
        r = subprocess.run(unshare + ["sh", "-c", 'mount --bind /dev/null "$0" && exec "$1" '
                                      'check-config -c "$2"', lib, harness.VIGIL, conf],
                           capture_output=True, text=True, timeout=30)
        if "mount" in r.stderr and r.returncode != 1:
            self.skipTest("no mount namespace here: " + r.stderr)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"^%s:4: journal checks need libsystemd: cannot load "
                                   r"libsystemd\.so\.0: " % conf)
        # With the library there, the same file is valid.
        self.assertEqual(run_cli(["check-config", "-c", conf]).stdout, "ok\n")


if __name__ == "__main__":
    harness.main()
