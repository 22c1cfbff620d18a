"""`vigil run` with records on stdout: events, heartbeats, hung collectors, the lock."""

import os
import signal
import time
import unittest

import harness
from harness import Agent, Workdir, events, run_cli, wait_for

MEMINFO = """MemTotal:       1000000 kB
MemFree:         100000 kB
MemAvailable:    {avail} kB
Buffers:          10000 kB
Cached:          200000 kB
SwapTotal:            0 kB
SwapFree:             0 kB
"""


class Run(harness.AgentTestCase):
    def start(self, body, env=None, name="agent", binary=None):
        path = self.w.write(name + ".ini", "[agent]\nstate_dir = %s\n%s\n" % (
            self.w.file(name + "-state"), body))
        a = Agent(self.w, path, env=env, name=name, binary=binary).start()
        self.agents.append(a)
        return a

    def test_disk_rule_always_true_emits_a_critical_event(self):
        a = self.start("interval = 1s\n[disk scratch]\npath = %s\n"
                       "critical = used_percent >= 0\nrunbook = https://runbooks/disk\n"
                       % self.w.path)
        e = a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "scratch",
                          what="the scratch event")
        self.assertEqual(e["state"], "critical")
        self.assertIsNone(e["previous_state"])
        self.assertEqual(e["plugin"], "disk")
        self.assertEqual(e["metric"], "used_percent")
        self.assertEqual(e["rule"], "used_percent >= 0")
        self.assertEqual(e["runbook"], "https://runbooks/disk")
        self.assertEqual(e["samples"], [])
        self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertRegex(e["id"], r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-")
        for key in ("kind", "id", "time", "host", "tags", "check", "plugin", "state",
                    "previous_state", "metric", "value", "rule", "message", "runbook",
                    "samples"):
            self.assertIn(key, e)
        self.assertEqual(a.stop(), 0)

    def test_fixture_procfs_drives_warning_critical_ok(self):
        proc = os.path.join(self.w.path, "proc")
        os.makedirs(proc)
        meminfo = os.path.join(proc, "meminfo")

        def set_available(kb):
            tmp = meminfo + ".tmp"
            with open(tmp, "w") as f:
                f.write(MEMINFO.format(avail=kb))
            os.rename(tmp, meminfo)

        set_available(500000)  # 50% used
        a = self.start("interval = 200ms\nprocfs = %s\n[memory]\n"
                       "warning = used_percent > 80\ncritical = used_percent > 90\n" % proc)
        a.wait_record(lambda r: r["kind"] == "event" and r["state"] == "ok", what="ok")
        set_available(150000)  # 85%
        a.wait_record(lambda r: r["kind"] == "event" and r["state"] == "warning", what="warning")
        set_available(50000)  # 95%
        a.wait_record(lambda r: r["kind"] == "event" and r["state"] == "critical", what="crit")
        set_available(600000)  # 40%
        a.wait_record(lambda r: r["kind"] == "event" and r["state"] == "ok"
                      and r["previous_state"] == "critical", what="back to ok")
        states = [(e["previous_state"], e["state"]) for e in events(a.records(), "memory")]
        self.assertEqual(states, [(None, "ok"), ("ok", "warning"), ("warning", "critical"),
                                  ("critical", "ok")])
        crit = [e for e in events(a.records()) if e["state"] == "critical"][0]
        self.assertEqual(crit["metric"], "used_percent")
        self.assertAlmostEqual(crit["value"], 95.0)
        self.assertEqual(crit["rule"], "used_percent > 90")
        back = events(a.records(), "memory")[-1]
        self.assertEqual(back["rule"], "used_percent > 90")
        self.assertAlmostEqual(back["value"], 40.0)
        self.assertEqual(a.stop(), 0)

    def test_hung_collector_goes_unknown_and_others_keep_their_schedule(self):
        fifo = self.w.file("hang.fifo")
        os.mkfifo(fifo)
        proc = os.path.join(self.w.path, "proc")
        os.makedirs(proc)
        self.w.write("proc/loadavg", "0.10 0.10 0.10 1/100 1\n")
        self.w.write("proc/stat", "cpu  1 0 1 8 0 0 0 0 0 0\ncpu0 1 0 1 8 0 0 0 0 0 0\n")
        a = self.start("procfs = %s\n[testblock nfs]\nfifo = %s\ninterval = 300ms\n"
                       "timeout = 200ms\nunknown_after = 2\n"
                       "[load]\ninterval = 300ms\nwarning = load1 > 1\n" % (proc, fifo),
                       binary=harness.VIGIL_TEST)
        a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "load",
                      what="load's first event")
        e = a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "nfs",
                          what="the hung check's event")
        self.assertEqual(e["state"], "unknown")
        self.assertIsNone(e["previous_state"])
        self.assertIn("timed out", e["message"])
        # While the collector is still stuck, load keeps running on schedule.
        self.w.write("proc/loadavg", "5.00 0.10 0.10 1/100 1\n")
        a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "load"
                      and r["state"] == "warning", what="load's warning")
        # The stuck call is never released: SIGTERM must still end the agent.
        started = time.monotonic()
        self.assertEqual(a.stop(), 0)
        self.assertLess(time.monotonic() - started, 7)

    def test_first_heartbeat_within_a_second_and_sigterm_exits_zero(self):
        a = self.start("[load]\n")
        started = time.monotonic()
        h = a.wait_record(lambda r: r["kind"] == "heartbeat", timeout=5, what="a heartbeat")
        self.assertLess(time.monotonic() - started, 2.5)
        for key in ("uptime_seconds", "version", "spool_records", "dropped", "corrupt_frames",
                    "dead_lettered", "log_bytes_skipped"):
            self.assertIn(key, h)
        self.assertEqual(a.stop(), 0)

    def test_second_agent_on_the_same_state_dir_exits_1(self):
        a = self.start("[load]\n")
        a.wait_record(lambda r: r["kind"] == "heartbeat", what="the first agent running")
        r = run_cli(["run", "-c", a.config], timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertIn("another vigil", r.stderr)
        self.assertEqual(a.stop(), 0)

    def test_state_dir_is_created_private(self):
        a = self.start("[load]\n")
        a.wait_record(lambda r: r["kind"] == "heartbeat", what="running")
        mode = os.stat(self.w.file("agent-state")).st_mode & 0o777
        self.assertEqual(mode & 0o007, 0)
        self.assertEqual(a.stop(), 0)

    def test_journal_stream_prefixes_log_lines_with_priorities(self):
        a = self.start("[load]\n", env={"JOURNAL_STREAM": "8:1234"})
        a.wait_record(lambda r: r["kind"] == "heartbeat", what="running")
        self.assertEqual(a.stop(), 0)
        lines = [l for l in a.stderr().splitlines() if l]
        self.assertTrue(lines)
        for l in lines:
            self.assertRegex(l, r"^<[0-7]>")


if __name__ == "__main__":
    harness.main()
