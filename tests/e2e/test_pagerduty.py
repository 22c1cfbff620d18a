"""`format = pagerduty` over HTTPS to a real local receiver (docs/RECORDS.md)."""

import os
import unittest

import harness
from harness import Agent, Workdir, wait_for
from receiver_harness import Receiver, WithCerts

ROUTING_KEY = "R0123456789abcdef0123456789abcdef"
EXEC = """code=$(cat "$0.code")
printf '%s\\n' "$(cat "$0.msg")"
exit "$code"
"""


class PagerDuty(WithCerts, unittest.TestCase):
    def setUp(self):
        self.w = Workdir()
        self.rx = Receiver(self.w, self.cert_dir).start()
        self.agent = None

    def tearDown(self):
        if self.agent and self.agent.proc and self.agent.proc.poll() is None:
            self.agent.kill9()
        self.rx.stop()
        self.w.cleanup()

    def exec_check(self, name, code, message, runbook):
        script = self.w.write(name + ".sh", EXEC)
        self.set_code(name, code)
        self.w.write(name + ".sh.msg", message)
        return "[exec %s]\ncommand = /bin/sh %s\ninterval = 300ms\nrunbook = %s\n" % (
            name, script, runbook)

    def set_code(self, name, code):
        path = self.w.file(name + ".sh.code")
        with open(path + ".tmp", "w") as f:
            f.write("%d\n" % code)
        os.rename(path + ".tmp", path)

    def test_incidents_become_events_api_v2_objects(self):
        long_message = "CRITICAL - disk full " + "\u00e9" * 2000
        body = (
            "[agent]\nstate_dir = %s\nhostname = pd-host\nheartbeat = 1s\ninterval = 1s\n"
            "[output pd]\nurl = %s\nformat = pagerduty\nrouting_key = %s\nca_file = %s\n"
            "retry_max = 1s\nflush_interval = 100ms\n"
            # Incident records only, whatever send says.
            "send = event, incident, problem, heartbeat\n" % (
                self.w.file("state"), self.rx.url("/v2/enqueue"), ROUTING_KEY,
                os.path.join(self.cert_dir, "ca.crt"))
            + self.exec_check("crit", 2, long_message, "https://runbooks.example/crit")
            + self.exec_check("warn", 1, "WARNING - slow", "call the on-call engineer")
            + self.exec_check("unk", 3, "UNKNOWN - no data", "http://runbooks.example/unk"))
        self.agent = Agent(self.w, self.w.write("vigil.ini", body)).start()

        def pd_events():
            return [r["body"] for r in self.rx.requests() if r["status"] == 200]

        wait_for(lambda: len(pd_events()) >= 3, 20, "three triggers")
        self.set_code("crit", 0)
        wait_for(lambda: [b for b in pd_events() if b.get("event_action") == "resolve"], 20,
                 "the resolve")

        # The agent's own heartbeats were made all along (every second): none may
        # have reached PagerDuty, nor any event.
        self.assertEqual(self.agent.stop(), 0)
        reqs = self.rx.requests()
        for req in reqs:
            self.assertEqual(req["method"], "POST")
            self.assertEqual(req["path"], "/v2/enqueue")
            self.assertEqual(req["headers"]["Content-Type"], "application/json")
            self.assertEqual(req["status"], 200)
        sent = [r["body"] for r in reqs]
        for b in sent:
            self.assertIsInstance(b, dict, "not one JSON object: %r" % b)
            self.assertEqual(sorted(b), ["dedup_key", "event_action", "links", "payload",
                                         "routing_key"])
            self.assertEqual(b["routing_key"], ROUTING_KEY)
            p = b["payload"]
            self.assertEqual(sorted(p), ["component", "custom_details", "severity", "source",
                                         "summary"])
            rec = p["custom_details"]
            self.assertEqual(rec["kind"], "incident")
            self.assertEqual(b["dedup_key"], rec["key"])
            self.assertEqual(b["dedup_key"], "pd-host/" + rec["check"])
            self.assertEqual(p["source"], "pd-host")
            self.assertEqual(p["component"], rec["check"])
            self.assertLessEqual(len(p["summary"]), 1024)
            self.assertTrue(rec["summary"].startswith(p["summary"]))
            self.assertEqual(b["event_action"], "resolve" if rec["action"] == "resolve"
                             else "trigger")

        by_check = {}
        for b in sent:
            by_check.setdefault(b["payload"]["component"], []).append(b)
        self.assertEqual(sorted(by_check), ["crit", "unk", "warn"])
        self.assertEqual([b["event_action"] for b in by_check["crit"]], ["trigger", "resolve"])
        self.assertEqual([b["event_action"] for b in by_check["warn"]], ["trigger"])
        self.assertEqual([b["event_action"] for b in by_check["unk"]], ["trigger"])

        trigger, resolve = by_check["crit"]
        self.assertEqual(trigger["dedup_key"], resolve["dedup_key"])
        self.assertEqual(trigger["payload"]["custom_details"]["incident_id"],
                         resolve["payload"]["custom_details"]["incident_id"])
        self.assertEqual(resolve["payload"]["custom_details"]["status"], "resolved")
        self.assertTrue(trigger["payload"]["summary"].startswith("CRITICAL - disk full \u00e9"))

        severities = {c: bs[0]["payload"]["severity"] for c, bs in by_check.items()}
        self.assertEqual(severities, {"crit": "critical", "warn": "warning", "unk": "error"})
        self.assertEqual(by_check["unk"][0]["payload"]["custom_details"]["severity"], "unknown")

        links = {c: [l["href"] for l in bs[0]["links"]] for c, bs in by_check.items()}
        self.assertEqual(links, {"crit": ["https://runbooks.example/crit"], "warn": [],
                                 "unk": ["http://runbooks.example/unk"]})


if __name__ == "__main__":
    harness.main()
