"""The `alertmanager` output against a real Alertmanager (docs/RECORDS.md).

Starts the Debian package's prometheus-alertmanager on loopback (no clustering, a
receiver that does nothing), points an `alertmanager` output at its
`/api/v2/alerts`, turns an exec check critical, then ok, and reads the alert back
through Alertmanager's own API.
"""

import datetime
import json
import os
import unittest

import harness
from alertmanager_harness import INSTALLED, NOT_INSTALLED, Alertmanager, get, parse_time
from harness import Agent, Workdir, incidents, wait_for

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


@unittest.skipUnless(INSTALLED, NOT_INSTALLED)
class AlertmanagerOutput(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()
        self.agent = None
        self.am = Alertmanager(self.w, AM_CONFIG).start()
        self.base = self.am.base

    def tearDown(self):
        if self.agent and self.agent.proc and self.agent.proc.poll() is None:
            self.agent.kill9()
        self.am.stop()
        self.w.cleanup()

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
        # In no correlation problem: a problem of its own, and its cause.
        self.assertEqual(labels["vigil_problem"], opened["incident_id"])
        self.assertEqual(labels["vigil_role"], "cause")
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
