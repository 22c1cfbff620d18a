"""Correlation with real programs: a full disk pages three times, one problem.

A 1 MiB tmpfs (tests/faults/faults.py: as root directly, else in a user and mount
namespace) holds the data of a bash service that appends 8 KiB every 1.5 s and,
when a write fails, logs `ERROR … No space left on device` and exits; a bash
supervisor starts it again 1.5 s later. While the disk is full it fails every 3 s:
the log and process checks count over 5 s, so their incidents stay open. `dd` fills the tmpfs: the disk check goes
critical within an interval, the error line reaches the log check about 1.5 s
later, the restart reaches the process check 1.5 s after that. The three
incidents become one correlation problem with the disk as suspected cause, and
Alertmanager, grouping by `vigil_problem`, sends them in one notification.
"""

import json
import os
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "faults"))

import faults  # noqa: E402
import harness  # noqa: E402
from alertmanager_harness import (INSTALLED, NOT_INSTALLED, Alertmanager,  # noqa: E402
                                  Webhook, parse_time)
from harness import Agent, incidents, wait_for  # noqa: E402

faults.ensure_root_for_mounts()

WINDOW = 6.0  # correlate_window, seconds: the cascade takes about 3.5 s of it

APP = """#!/bin/bash
# Appends 8 KiB (two new tmpfs pages) every 1.5 s, the first 1.5 s after it
# starts (so that the process check sees each run); a failed write is fatal.
while true; do
  sleep 1.5
  if ! head -c 8192 /dev/zero 2>"%(err)s" >>"%(data)s/app.dat"; then
    read -r err <"%(err)s"
    printf '%%(%%FT%%TZ)T ERROR write to app.dat failed: %%s\\n' -1 "$err" >>"%(log)s"
    exit 1
  fi
done
"""

SUPERVISOR = """#!/bin/bash
# Starts the app again 1.5 s after it exits, as a service manager would.
while true; do
  bash "%(app)s"
  sleep 1.5
done
"""

AM_CONFIG = """route:
  receiver: hook
  group_by: [vigil_problem]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s
        send_resolved: false
"""

OTHER = """#!/bin/sh
exit "$(cat "%s")"
"""


def opened(check):
    return lambda r: (r["kind"] == "incident" and r["check"] == check
                      and r["action"] == "open")


def resolved(check):
    return lambda r: (r["kind"] == "incident" and r["check"] == check
                      and r["action"] == "resolve")


def stamp(text):
    """Seconds since the epoch of a record's RFC 3339 time."""
    return parse_time(text).timestamp()


@unittest.skipUnless(INSTALLED, NOT_INSTALLED)
class DiskFullCascade(faults.FaultTestCase):
    def setUp(self):
        super().setUp()
        self.fs = self.mount("data", "1m")
        self.hook = Webhook()
        self.am = Alertmanager(self.w, AM_CONFIG % self.hook.url()).start()
        self.app_log = self.w.write("app.log", "")
        self.app = self.w.write("app.sh", APP % {
            "data": self.fs.path, "log": self.app_log, "err": self.w.file("app.err")})
        sup = self.w.write("supervisor.sh", SUPERVISOR % {"app": self.app})
        self.supervisor = subprocess.Popen(["bash", sup], start_new_session=True)
        self.other = self.w.write("other.state", "0\n")
        other_sh = self.w.write("other.sh", OTHER % self.other, mode=0o755)
        self.cfg = self.w.write("vigil.ini", (
            "[agent]\nstate_dir = %(state)s\nhostname = web-1\nheartbeat = 0\n"
            "interval = 500ms\n"
            "[incidents]\ncorrelate_window = %(window)ds\n"
            "[disk data]\npath = %(data)s\ncritical = used_percent > 90\n"
            "[log app_errors]\npath = %(log)s\nmatch = ERROR\nwindow = 5s\n"
            "[process app]\ncmdline = /app\\.sh$\nwindow = 5s\ncritical = restarts > 0\n"
            "[exec other]\ncommand = %(other)s\n"
            "[output am]\nurl = %(am)s\nformat = alertmanager\nflush_interval = 100ms\n"
            "[output witness]\nurl = stdout\nflush_interval = 50ms\n") % {
                "state": self.w.file("state"), "window": WINDOW, "data": self.fs.path,
                "log": self.app_log, "other": other_sh, "am": self.am.alerts_url()})

    def tearDown(self):
        os.killpg(self.supervisor.pid, signal.SIGKILL)
        self.supervisor.wait()
        self.am.stop()
        self.hook.stop()
        super().tearDown()

    def app_data(self):
        """Bytes the app has written (0 before its first write)."""
        try:
            return os.path.getsize(os.path.join(self.fs.path, "app.dat"))
        except OSError:
            return 0

    def test_a_full_disk_is_one_problem_with_the_disk_as_suspected_cause(self):
        a = Agent(self.w, self.cfg).start()
        self.agents.append(a)
        for check in ("data", "app_errors", "app", "other"):
            a.wait_record(lambda r, c=check: r["kind"] == "event" and r["check"] == c
                          and r["state"] == "ok", what="check %s ok" % check)

        # Fill the disk just after one of the app's writes, so that the next one,
        # 1.5 s later, is the first to fail.
        size = self.app_data()
        wait_for(lambda: self.app_data() > size, timeout=5, what="a write of the app")
        subprocess.run(["dd", "if=/dev/zero", "of=" + os.path.join(self.fs.path, "fill"),
                        "bs=64k"], capture_output=True, check=False)

        disk = a.wait_record(opened("data"), timeout=5, what="the disk incident")
        log = a.wait_record(opened("app_errors"), timeout=5, what="the log incident")
        proc = a.wait_record(opened("app"), timeout=8, what="the process incident")
        self.assertLess(disk["opened_at"], log["opened_at"])
        self.assertLess(log["opened_at"], proc["opened_at"])
        with open(self.app_log) as f:
            self.assertIn("No space left on device", f.read())

        problems = lambda: [r for r in a.records() if r["kind"] == "problem"]
        update = wait_for(lambda: next((p for p in problems() if p["action"] == "update"),
                                       None), timeout=5, what="the problem's update")
        self.assertEqual([p["action"] for p in problems()], ["open", "update"])
        ids = [disk["incident_id"], log["incident_id"], proc["incident_id"]]
        self.assertEqual(update["cause"], "correlation")
        self.assertEqual(update["key"], "web-1/correlation/data")
        self.assertEqual(update["suspected_check"], "data")
        self.assertEqual(update["suspected_incident_id"], disk["incident_id"])
        self.assertEqual(update["incident_count"], 3)
        self.assertEqual(update["incident_ids"], ids)
        self.assertEqual(update["problem_id"], disk["incident_id"])
        self.assertRegex(update["summary"],
                         r"^data critical at \d\d:\d\d:\d\dZ suspected first cause; "
                         r"app_errors \+\d s, app \+\d s opened within 6s$")
        self.assertEqual([log["problem_id"], proc["problem_id"]], [update["problem_id"]] * 2)
        self.assertEqual([log["problem_role"], proc["problem_role"]], ["symptom"] * 2)

        # /status and `vigil status` list it with its cause and suspected check.
        status = json.loads(harness.run_cli(["status", "-c", self.cfg, "--json"]).stdout)
        listed = [p for p in status["problems"] if p["cause"] == "correlation"]
        self.assertEqual([(p["problem_id"], p["suspected_check"]) for p in listed],
                         [(update["problem_id"], "data")])
        text = harness.run_cli(["status", "-c", self.cfg]).stdout
        row = next(line for line in text.splitlines() if "web-1/correlation/data" in line)
        self.assertRegex(row, r"correlation +data +3 ")

        # Alertmanager, grouping by vigil_problem: one notification, three alerts.
        def three_alerts():
            for n in self.hook.notifications():
                if len(n["alerts"]) == 3:
                    return n
            return None
        note = wait_for(three_alerts, timeout=10, what="a notification of three alerts")
        self.assertEqual(note["groupLabels"], {"vigil_problem": update["problem_id"]})
        roles = {x["labels"]["alertname"]: x["labels"]["vigil_role"] for x in note["alerts"]}
        self.assertEqual(roles, {"data": "cause", "app_errors": "symptom", "app": "symptom"})

        # An unrelated incident once the window has passed joins nothing.
        wait_for(lambda: time.time() > stamp(disk["opened_at"]) + WINDOW + 0.2,
                 timeout=WINDOW + 2, what="the end of the correlation window")
        self.w.write("other.state", "2\n")
        other = a.wait_record(opened("other"), timeout=5, what="the unrelated incident")
        self.assertIsNone(other["problem_id"])
        self.w.write("other.state", "0\n")
        a.wait_record(resolved("other"), timeout=5, what="the unrelated incident resolving")
        self.assertEqual([p["action"] for p in problems()], ["open", "update"])

        # Space again: the three resolve, then the problem.
        os.unlink(os.path.join(self.fs.path, "fill"))
        for check in ("data", "app_errors", "app"):
            a.wait_record(resolved(check), timeout=12, what="%s resolving" % check)
        end = a.wait_record(lambda r: r["kind"] == "problem" and r["action"] == "resolve",
                            timeout=3, what="the problem resolving")
        self.assertEqual(end["problem_id"], update["problem_id"])
        self.assertEqual(end["incident_ids"], ids)
        last = max((r for r in incidents(a.records()) if r["action"] == "resolve"
                    and r["incident_id"] in ids), key=lambda r: r["time"])
        self.assertGreaterEqual(end["time"], last["time"])
        self.assertEqual(a.stop(), 0)


if __name__ == "__main__":
    harness.main()
