"""SIGHUP: a broken configuration is refused, a valid one keeps what remains."""

import json
import os
import signal
import subprocess
import sys
import unittest

import harness
from harness import Agent, Workdir, events, incidents, wait_for

RECEIVER = None


class Reload(harness.AgentTestCase):
    def config_text(self, body):
        return "[agent]\nstate_dir = %s\n%s\n" % (self.w.file("state"), body)

    def start(self, body):
        path = self.w.write("agent.ini", self.config_text(body))
        a = Agent(self.w, path).start()
        self.agents.append(a)
        return a

    def reload(self, a, body):
        """Rewrites the config, sends SIGHUP, waits for the reload's last log line."""
        before = a.stderr().count("reload")
        self.w.write("agent.ini", self.config_text(body))
        a.signal(signal.SIGHUP)
        wait_for(lambda: a.stderr().count("reload") > before
                 and ("output(s)" in a.stderr().split("reloading")[-1]
                      or "keeping the running one" in a.stderr().split("reloading")[-1]),
                 30, "the reload to finish")

    def receiver(self, script):
        script_path = self.w.write("script-%d.json" % len(self.receivers), json.dumps(script))
        log = self.w.file("receiver-%d.log" % len(self.receivers))
        port_file = self.w.file("port-%d" % len(self.receivers))
        p = subprocess.Popen([sys.executable, RECEIVER, "--port", "0", "--log", log,
                              "--port-file", port_file, "--script", script_path,
                              "--parent", str(os.getpid())])
        self.receivers.append(p)
        wait_for(lambda: os.path.exists(port_file), 20, "the receiver to listen")
        with open(port_file) as f:
            port = int(f.read())
        return port, log, script_path

    def heartbeats(self, a):
        return [r for r in a.records() if r["kind"] == "heartbeat"]

    def wait_heartbeats(self, a, n, what="heartbeats"):
        """Waits until n more heartbeats than now were printed."""
        have = len(self.heartbeats(a))
        wait_for(lambda: len(self.heartbeats(a)) >= have + n, 30, what)

    def flag_check(self):
        flag = self.w.file("down.flag")
        script = self.w.write("check.sh", "#!/bin/sh\nif [ -e %s ]; then echo 'it is down'; "
                              "exit 2; fi\necho 'it is up'\n" % flag, 0o755)
        return flag, script

    def test_broken_config_is_reported_and_the_agent_keeps_delivering(self):
        base = "interval = 200ms\nheartbeat = 200ms\n[load]\n"
        a = self.start(base)
        self.wait_heartbeats(a, 1, "the first heartbeat")
        self.reload(a, base + "[disk broken\npath = /\n")
        err = a.stderr()
        self.assertRegex(err, r"agent\.ini:\d+: ", err)
        self.assertIn("keeping the running one", err)
        self.assertFalse(a.exited())
        self.wait_heartbeats(a, 3, "heartbeats after the refused reload")
        # An invalid value, not only bad syntax: same.
        self.reload(a, base + "[disk d]\npath = /\ninterval = -5s\n")
        self.assertRegex(a.stderr().split("reloading")[-1], r"agent\.ini:\d+: ")
        self.wait_heartbeats(a, 3, "heartbeats after the second refused reload")
        self.assertEqual(events(a.records(), "d"), [])
        # A valid one then applies: the added check's records appear.
        self.reload(a, base + "[disk added]\npath = %s\n" % self.w.path)
        e = a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "added",
                          what="the added check's event")
        self.assertEqual(e["plugin"], "disk")
        self.assertIsNone(e["previous_state"])
        self.wait_heartbeats(a, 2)
        self.assertEqual(a.stop(), 0)

    def test_open_incident_stays_open_across_reloads(self):
        flag, script = self.flag_check()
        open(flag, "w").close()
        base = "interval = 200ms\nheartbeat = 200ms\n[exec svc]\ncommand = %s\n" % script
        a = self.start(base)
        opened = a.wait_record(lambda r: r["kind"] == "incident" and r["check"] == "svc",
                               what="the incident opening")
        self.assertEqual(opened["action"], "open")
        # Reload 1: the check unchanged, another added.
        self.reload(a, base + "[disk added]\npath = %s\n" % self.w.path)
        a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "added",
                      what="the added check's event")
        # Reload 2: the check itself changed (its interval): still the same check.
        self.reload(a, "interval = 200ms\nheartbeat = 200ms\n[exec svc]\ncommand = %s\n"
                    "interval = 300ms\n[disk added]\npath = %s\n" % (script, self.w.path))
        self.wait_heartbeats(a, 5, "heartbeats after the reloads")
        inc = incidents(a.records(), "svc")
        self.assertEqual([r["action"] for r in inc], ["open"], inc)
        # No second event either: the state was kept (critical → critical is no change).
        self.assertEqual([e["state"] for e in events(a.records(), "svc")], ["critical"])
        # The check is still live after the reloads: recovery resolves that incident.
        os.unlink(flag)
        res = a.wait_record(lambda r: r["kind"] == "incident" and r["check"] == "svc"
                            and r["action"] == "resolve", what="the resolve")
        self.assertEqual(res["incident_id"], opened["incident_id"])
        self.assertEqual(a.stop(), 0)

    def test_removed_check_has_its_incident_resolved(self):
        flag, script = self.flag_check()
        open(flag, "w").close()
        keep = "interval = 200ms\nheartbeat = 200ms\n[load]\n"
        a = self.start(keep + "[exec svc]\ncommand = %s\n" % script)
        opened = a.wait_record(lambda r: r["kind"] == "incident" and r["check"] == "svc",
                               what="the incident opening")
        self.reload(a, keep)
        res = a.wait_record(lambda r: r["kind"] == "incident" and r["check"] == "svc"
                            and r["action"] == "resolve", what="the resolve of the removed check")
        self.assertEqual(res["incident_id"], opened["incident_id"])
        self.assertEqual(res["status"], "resolved")
        self.assertIn("removed", res["summary"])
        n_events = len(events(a.records(), "svc"))
        self.wait_heartbeats(a, 5, "heartbeats after the reload")
        self.assertEqual(len(events(a.records(), "svc")), n_events, "the removed check still runs")
        self.assertEqual(len(incidents(a.records(), "svc")), 2)
        # A restart does not bring it back.
        self.assertEqual(a.stop(), 0)
        a.start()
        self.wait_heartbeats(a, 3, "heartbeats after the restart")
        self.assertEqual(len(incidents(a.records(), "svc")), 2)
        self.assertEqual(a.stop(), 0)

    def test_removed_output_stops_and_keeps_its_spool(self):
        port, log, script = self.receiver({"status": 503})
        keep = ("interval = 200ms\nheartbeat = 200ms\n[load]\n[output main]\nurl = stdout\n")
        gone = ("[output gone]\nurl = http://127.0.0.1:%d/ingest\nretry_max = 200ms\n"
                "flush_interval = 100ms\n" % port)
        a = self.start(keep + gone)

        def attempts():
            if not os.path.exists(log):
                return []
            with open(log) as f:
                return [json.loads(l) for l in f if l.endswith("\n")]
        wait_for(lambda: len(attempts()) >= 2, 30, "two refused deliveries")
        self.reload(a, keep)
        # A request in flight at the reload may still land; after that, silence.
        self.wait_heartbeats(a, 3, "heartbeats after the reload")
        n = len(attempts())
        self.wait_heartbeats(a, 5, "more heartbeats")
        self.assertEqual(len(attempts()), n, "the removed output still sends")
        spool = self.w.file("state/spool/gone")
        self.assertTrue(os.path.isdir(spool))
        size = sum(os.path.getsize(os.path.join(spool, f)) for f in os.listdir(spool))
        self.assertGreater(size, 0)
        # What it held is still there: added back with the endpoint up, it delivers
        # the records it had spooled before it was removed.
        sent_before = set()
        for req in attempts():
            for r in req["body"]["records"]:
                sent_before.add(r["id"])
        self.assertTrue(sent_before)
        with open(script, "w") as f:
            json.dump({"status": 200}, f)
        self.reload(a, keep + gone)

        def delivered():
            got = set()
            for req in attempts():
                if req["status"] == 200:
                    got.update(r["id"] for r in req["body"]["records"])
            return sent_before <= got
        wait_for(delivered, 30, "the spooled records delivered")
        self.assertEqual(a.stop(), 0)


if __name__ == "__main__":
    harness.parse_args()
    RECEIVER = os.path.join(harness.SOURCE, "tests", "support", "receiver.py")
    unittest.main(verbosity=2)
