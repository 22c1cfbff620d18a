"""The `alertmanager` output against a real Alertmanager (docs/RECORDS.md).

Starts the Debian package's prometheus-alertmanager on loopback (no clustering, a
receiver that does nothing), points an `alertmanager` output at its
`/api/v2/alerts`, turns an exec check critical, then ok, and reads the alert back
through Alertmanager's own API.
"""

import datetime
import itertools
import json
import os
import shutil
import socket
import subprocess
import unittest
import urllib.error
import urllib.request

import harness
from harness import Agent, Workdir, incidents, wait_for

ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"

AM_CONFIG = """route:
  receiver: "null"
receivers:
  - name: "null"
"""

CHECK = """#!/bin/sh
s=$(cat "%s")
echo "flip is $s"
exit "$s"
"""


def free_port():
    # Alertmanager cannot report the port it bound, so pick one first; start()
    # tries again with another if it was taken meanwhile.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", errors="replace")
    except (urllib.error.URLError, OSError):
        return None, ""


def parse_time(text):
    # Alertmanager prints RFC 3339 with up to nanoseconds; keep microseconds.
    text = text.replace("Z", "+00:00")
    if "." in text:
        head, rest = text.split(".", 1)
        digits = "".join(itertools.takewhile(str.isdigit, rest))
        zone = rest[len(digits):]
        text = "%s.%s%s" % (head, (digits + "000000")[:6], zone)
    return datetime.datetime.fromisoformat(text)


@unittest.skipUnless(os.access(ALERTMANAGER, os.X_OK),
                     "prometheus-alertmanager is not installed "
                     "(apt-get install prometheus-alertmanager)")
class Alertmanager(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()
        self.am = None
        self.agent = None
        self.am_log = open(self.w.file("alertmanager.log"), "w")
        self.start_alertmanager()

    def tearDown(self):
        if self.agent and self.agent.proc and self.agent.proc.poll() is None:
            self.agent.kill9()
        if self.am and self.am.poll() is None:
            self.am.kill()
            self.am.wait()
        self.am_log.close()
        self.w.cleanup()

    def start_alertmanager(self):
        config = self.w.write("alertmanager.yml", AM_CONFIG)
        for _ in range(5):
            self.port = free_port()
            self.base = "http://127.0.0.1:%d" % self.port
            self.am = subprocess.Popen(
                [ALERTMANAGER, "--config.file=" + config,
                 "--storage.path=" + self.w.file("am-data"),
                 "--web.listen-address=127.0.0.1:%d" % self.port,
                 "--cluster.listen-address="],
                stdout=self.am_log, stderr=subprocess.STDOUT)

            def ready():
                if self.am.poll() is not None:
                    return "exited"
                return "ready" if get(self.base + "/-/ready")[0] == 200 else None

            if wait_for(ready, timeout=30, what="Alertmanager's /-/ready") == "ready":
                return
            self.am.wait()  # the port was taken meanwhile: another one
        self.fail("Alertmanager did not start; its log:\n" + open(self.am_log.name).read())

    def alerts(self, query=""):
        status, body = get(self.base + "/api/v2/alerts" + query)
        self.assertEqual(status, 200, body)
        return [a for a in json.loads(body) if a["labels"].get("alertname") == "flip"]

    def test_critical_check_becomes_an_active_alert_then_resolves(self):
        state = self.w.write("state", "2\n")
        script = self.w.write("check.sh", CHECK % state, mode=0o755)
        config = self.w.write("vigil.ini", (
            "[agent]\nstate_dir = %s\nhostname = web-1\nheartbeat = 0\n"
            "tags = team=ops,rack-id=r7\n"
            "[exec flip]\ncommand = %s\ninterval = 200ms\n"
            "runbook = https://runbooks.example/flip\n"
            "[output am]\nurl = %s/api/v2/alerts\nformat = alertmanager\n"
            "flush_interval = 100ms\n"
            "[output witness]\nurl = stdout\n") % (self.w.file("state-dir"), script, self.base))
        self.agent = Agent(self.w, config).start()

        opened = self.agent.wait_record(
            lambda r: r["kind"] == "incident" and r["check"] == "flip" and r["action"] == "open",
            what="the incident opening")
        alert = wait_for(lambda: next(iter(self.alerts()), None), timeout=20,
                         what="the alert in Alertmanager")
        self.assertEqual(alert["status"]["state"], "active")
        labels = alert["labels"]
        self.assertEqual(labels["alertname"], "flip")
        self.assertEqual(labels["instance"], "web-1")
        self.assertEqual(labels["severity"], "critical")
        self.assertEqual(labels["team"], "ops")
        self.assertEqual(labels["rack_id"], "r7")  # a tag key made a valid label name
        self.assertEqual(alert["annotations"]["runbook_url"], "https://runbooks.example/flip")
        self.assertTrue(alert["annotations"]["summary"])
        starts = parse_time(alert["startsAt"])
        self.assertLess(abs((starts - parse_time(opened["opened_at"])).total_seconds()), 0.002)
        # An open incident's endsAt is about five minutes after the request.
        ends_in = (parse_time(alert["endsAt"]) -
                   datetime.datetime.now(datetime.timezone.utc)).total_seconds()
        self.assertGreater(ends_in, 240)
        self.assertLess(ends_in, 330)

        self.w.write("state", "0\n")
        resolved = self.agent.wait_record(
            lambda r: r["kind"] == "incident" and r["check"] == "flip"
            and r["action"] == "resolve", what="the incident resolving")
        wait_for(lambda: not self.alerts("?active=true"), timeout=20,
                 what="the alert to leave Alertmanager's active alerts")
        self.assertEqual(self.alerts(), [])  # resolved alerts are not listed at all

        self.assertEqual([i["action"] for i in incidents(self.agent.records(), "flip")],
                         ["open", "resolve"])
        self.assertEqual(resolved["incident_id"], opened["incident_id"])
        self.assertEqual(self.agent.stop(), 0)
        # Alertmanager took every request: nothing was dead-lettered or retried.
        self.assertFalse(os.path.exists(self.w.file("state-dir/dead/am")),
                         os.listdir(self.w.file("state-dir/dead/am"))
                         if os.path.exists(self.w.file("state-dir/dead/am")) else "")
        self.assertNotIn("delivery failed", self.agent.stderr())


if __name__ == "__main__":
    harness.main()
