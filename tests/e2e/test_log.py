"""The log check with the real binary: events and samples, windows, rotation,
restarts, over-long lines and binary garbage."""

import json
import os
import signal
import threading
import time
import unittest

import harness
from harness import Agent, Workdir, events, incidents, run_cli, wait_for


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Writer:
    """Appends numbered matching lines (and noise) to a log file."""

    def __init__(self, path, append=True):
        self.path = path
        self.append = append
        self.seq = 0
        self.f = None
        self.reopen()

    def reopen(self):
        if self.f:
            self.f.close()
        # A writer without O_APPEND keeps its offset across a truncation.
        self.f = open(self.path, "ab" if self.append else "r+b" if os.path.exists(
            self.path) else "wb")
        if not self.append:
            self.f.seek(0, os.SEEK_END)

    def lines(self, n, noise=True):
        for _ in range(n):
            self.seq += 1
            text = b"ERROR request %06d failed\n" % self.seq
            if noise:
                text = b"INFO all fine here\n" + text
            self.f.write(text)
            self.f.flush()

    def close(self):
        self.f.close()


class Log(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()
        self.agents = []
        self.log = self.w.file("logs/app.log")
        os.makedirs(os.path.dirname(self.log))

    def tearDown(self):
        for a in self.agents:
            if a.proc and a.proc.poll() is None:
                a.kill9()
        self.w.cleanup()

    def start(self, check, agent_extra="", name="agent"):
        path = self.w.write(name + ".ini", "[agent]\nstate_dir = %s\ninterval = 300ms\n%s\n%s\n" % (
            self.w.file(name + "-state"), agent_extra, check))
        a = Agent(self.w, path, name=name).start()
        self.agents.append(a)
        return a

    def status_check(self, agent, check):
        r = run_cli(["status", "-c", agent.config, "--json"], timeout=20)
        if r.returncode != 0:
            return None
        for c in json.loads(r.stdout)["checks"]:
            if c["name"] == check:
                return c
        return None

    def wait_matches(self, agent, check, n, what):
        """Waits until the check's `matches` metric is exactly n."""
        def reached():
            c = self.status_check(agent, check)
            return c is not None and c["metrics"].get("matches") == n
        try:
            wait_for(reached, timeout=30, what=what)
        except AssertionError:
            raise AssertionError("%s; last status: %s" % (what, self.status_check(agent, check)))

    def assert_matches_stay(self, agent, check, n):
        """A few more collections read nothing more: nothing was counted twice."""
        c = self.status_check(agent, check)
        last = c["last_run"]
        for _ in range(3):
            wait_for(lambda: self.status_check(agent, check)["last_run"] != last, timeout=20,
                     what="another collection")
            c = self.status_check(agent, check)
            last = c["last_run"]
            self.assertEqual(c["metrics"]["matches"], n, c)

    def test_matching_lines_raise_a_warning_with_samples_then_return_to_ok(self):
        with open(self.log, "wb") as f:
            f.write(b"ERROR old line before the agent started\n")
        a = self.start("[log app]\npath = %s\nmatch = ERROR\nwindow = 1500ms\n"
                       "runbook = see the app runbook\n" % self.log)
        first = a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "app",
                              what="the first event")
        self.assertEqual(first["state"], "ok")  # from = end: the old line is not read
        self.assertEqual(first["samples"], [])
        long_line = "ERROR " + "\u00e9" * 400  # 806 bytes: cut to at most 512
        with open(self.log, "ab") as f:
            f.write(b"ERROR bad byte \xff here\n" + b"INFO nothing\n" +
                    long_line.encode() + b"\n" +
                    b"".join(b"ERROR number %d\n" % i for i in range(3, 8)))
        e = a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "app"
                          and r["state"] == "warning", what="the warning event")
        self.assertEqual(e["previous_state"], "ok")
        self.assertEqual(e["plugin"], "log")
        self.assertEqual(e["metric"], "matches")
        self.assertEqual(e["rule"], "matches > 0")
        self.assertEqual(e["value"], 7)
        self.assertEqual(e["runbook"], "see the app runbook")
        s = e["samples"]
        self.assertEqual(len(s), 5, s)
        self.assertEqual(s[0], "ERROR bad byte \ufffd here")
        self.assertLessEqual(len(s[1].encode()), 512)
        self.assertGreater(len(s[1].encode()), 500)
        self.assertTrue(long_line.startswith(s[1]), s[1][:40])
        self.assertEqual(s[2:], ["ERROR number 3", "ERROR number 4", "ERROR number 5"])
        ok = a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "app"
                           and r["previous_state"] == "warning", what="the return to ok")
        self.assertEqual(ok["state"], "ok")
        self.assertEqual(ok["metric"], "matches")
        self.assertEqual(ok["value"], 0)
        self.assertEqual(ok["samples"], [])
        res = a.wait_record(lambda r: r["kind"] == "incident" and r["check"] == "app"
                            and r["action"] == "resolve", what="the resolve")
        self.assertEqual(res["occurrences"], 7)
        states = [(x["previous_state"], x["state"]) for x in events(a.records(), "app")]
        self.assertEqual(states, [(None, "ok"), ("ok", "warning"), ("warning", "ok")])
        self.assertEqual(a.stop(), 0)

    def test_severity_critical_and_exclude(self):
        a = self.start("[log app]\npath = %s\nmatch = (?i)panic\nexclude = drill\n"
                       "severity = critical\nwindow = 1h\n" % self.log)
        a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "app", what="first")
        with open(self.log, "ab") as f:
            f.write(b"panic: fire drill\n")
        with open(self.log, "ab") as f:
            f.write(b"kernel PANIC for real\n")
        e = a.wait_record(lambda r: r["kind"] == "event" and r["state"] == "critical",
                          what="the critical event")
        self.assertEqual(e["samples"], ["kernel PANIC for real"])
        self.assertEqual(e["value"], 1)
        self.wait_matches(a, "app", 1, "matches = 1")
        self.assertEqual(a.stop(), 0)

    def rotation_check(self, extra=""):
        return ("[log app]\npath = %s\nmatch = ^ERROR request\nwindow = 1h\nrotate_wait = 2s\n"
                "warning = matches >= 1\n%s" % (self.log, extra))

    def rotate_while_writing(self, rotate):
        """A thread appends 600 matching lines, rotating every 150 of them while
        it keeps writing to the old file for a few more lines."""
        w = Writer(self.log)
        a = self.start(self.rotation_check())
        a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "app", what="first")
        failure = []

        def write():
            try:
                for round_ in range(4):
                    for _ in range(140):
                        w.lines(1)
                        time.sleep(0.002)
                    rotate(round_)
                    w.lines(10)  # the writer has not reopened yet
                    w.reopen()
                w.close()
            except Exception as e:  # reported by the main thread
                failure.append(e)

        t = threading.Thread(target=write)
        t.start()
        t.join(60)
        self.assertFalse(t.is_alive())
        self.assertEqual(failure, [])
        self.assertEqual(w.seq, 600)
        self.wait_matches(a, "app", 600, "all 600 lines")
        self.assert_matches_stay(a, "app", 600)
        self.assertEqual(a.stop(), 0)

    def test_rename_rotation_while_writing_counts_every_line_once(self):
        # app.log -> app.log.1 -> app.log.2: the rotated files are outside `path`.
        def rotate(_):
            if os.path.exists(self.log + ".1"):
                os.rename(self.log + ".1", self.log + ".2")
            os.rename(self.log, self.log + ".1")
        self.rotate_while_writing(rotate)

    def test_delete_and_recreate_while_writing_counts_every_line_once(self):
        self.rotate_while_writing(lambda _: os.unlink(self.log))

    def test_copytruncate_with_a_writer_without_o_append(self):
        w = Writer(self.log, append=False)
        a = self.start(self.rotation_check())
        a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "app", what="first")
        w.lines(30)
        self.wait_matches(a, "app", 30, "the first 30 lines")
        # copytruncate: copy, truncate; the writer goes on at its old offset, so
        # the head of the file becomes NUL bytes.
        with open(self.log, "rb") as src, open(self.log + ".1", "wb") as dst:
            dst.write(src.read())
        os.truncate(self.log, 0)
        w.lines(20)
        self.wait_matches(a, "app", 50, "all 50 lines")
        self.assertEqual(os.path.getsize(self.log) > 0, True)
        with open(self.log, "rb") as f:
            self.assertEqual(f.read(16), b"\0" * 16)
        # The NUL run produced no line and no sample.
        self.assert_matches_stay(a, "app", 50)
        w.close()
        for e in events(a.records(), "app"):
            for s in e["samples"]:
                self.assertNotIn("\0", s)
        self.assertEqual(a.stop(), 0)

    def test_truncate_in_place_by_an_appending_writer(self):
        w = Writer(self.log)
        a = self.start(self.rotation_check())
        a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "app", what="first")
        w.lines(40)
        self.wait_matches(a, "app", 40, "the first 40 lines")
        os.truncate(self.log, 0)
        w.lines(3)  # shorter than before: the size is below the offset
        self.wait_matches(a, "app", 43, "43 lines")
        os.truncate(self.log, 0)
        w.lines(60)  # longer than before: only the head tells
        self.wait_matches(a, "app", 103, "103 lines")
        w.close()
        self.assert_matches_stay(a, "app", 103)
        self.assertEqual(a.stop(), 0)

    def test_restart_neither_loses_nor_recounts_lines(self):
        w = Writer(self.log)
        a = self.start(self.rotation_check())
        a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "app", what="first")
        w.lines(12)
        w.f.write(b"ERROR request half a li")  # an unfinished line
        w.f.flush()
        self.wait_matches(a, "app", 12, "12 lines")
        self.assertEqual(a.stop(), 0)
        # While the agent is down: the line ends and more are written.
        w.f.write(b"ne\n")
        w.lines(8)
        w.close()
        a.start()
        # The window starts empty: exactly the 9 lines written around the stop.
        self.wait_matches(a, "app", 9, "the 9 lines written while down")
        self.assert_matches_stay(a, "app", 9)
        # The check kept its state: no new first event.
        self.assertEqual([e["previous_state"] for e in events(a.records(a.runs), "app")], [])
        self.assertEqual(a.stop(), 0)

    def test_huge_line_and_binary_garbage_leave_the_agent_up_and_counted(self):
        a = self.start("[log app]\npath = %s\nmatch = ERROR\nwindow = 1h\n" % self.log,
                       agent_extra="heartbeat = 500ms\n")
        a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "app", what="first")
        peak = [vm_rss_kib(a.proc.pid)]
        sampling = threading.Event()

        def sample_rss():
            while not sampling.wait(0.01):
                try:
                    peak[0] = max(peak[0], vm_rss_kib(a.proc.pid))
                except OSError:
                    return
        sampler = threading.Thread(target=sample_rss)
        sampler.start()
        self.addCleanup(sampler.join)
        self.addCleanup(sampling.set)
        with open(self.log, "ab") as f:
            f.write(b"x" * (5 * 1024 * 1024))  # no newline
        h = a.wait_record(lambda r: r["kind"] == "heartbeat" and r["log_bytes_skipped"] > 0,
                          what="a heartbeat counting skipped bytes")
        self.assertGreater(h["log_bytes_skipped"], 4 * 1024 * 1024)
        v = a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "vigil"
                          and r["state"] == "warning", what="the vigil check's warning")
        self.assertEqual(v["plugin"], "vigil")
        self.assertEqual(v["metric"], "log_bytes_skipped")
        self.assertGreater(v["value"], 0)
        self.assertIn("log_bytes_skipped", v["message"])
        self.assertIn("app", v["message"])
        with open(self.log, "ab") as f:
            garbage = bytes(range(256)) * 64 + b"\0" * 70000 + b"\xc3\x28\xff\xfe" * 9000
            f.write(garbage.replace(b"ERROR", b"") + b"\n")
            f.write(b"\0\0\0\n\xff\xfe ERROR after garbage \xc3\n")
        e = a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "app"
                          and r["state"] == "warning", what="the matching line after garbage")
        self.assertEqual(e["samples"], ["\ufffd\ufffd ERROR after garbage \ufffd"])
        self.assertFalse(a.exited())
        sampling.set()
        sampler.join()
        self.assertLess(peak[0], 40 * 1024, "peak VmRSS %d KiB" % peak[0])
        self.wait_matches(a, "app", 1, "exactly one matching line")
        self.assertEqual(a.stop(), 0)


if __name__ == "__main__":
    harness.main()
