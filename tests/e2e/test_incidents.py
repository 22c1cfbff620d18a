"""Incidents and problems end to end: open, resolve, relapse, escalation, renotify,
problems, flapping, restarts (SIGTERM and kill -9), removed checks, a corrupt state file.

Each test drives an exec check whose script exits 2 (critical) while a flag file
exists and 0 otherwise, and appends a line to a run log on every run, so a test can
wait for "the check ran N more times" instead of sleeping.
"""

import calendar
import os
import time
import unittest

import harness
from harness import Agent, Workdir, events, incidents, wait_for

HOST = "testhost"

INCIDENT_FIELDS = ("kind", "id", "time", "host", "tags", "incident_id", "key", "action",
                   "status", "severity", "opened_at", "resolved_at", "occurrences",
                   "escalation_level", "flapping", "check", "summary", "runbook", "event_id",
                   "problem_id", "problem_role", "silenced", "silence_ids", "acknowledged_at",
                   "acknowledged_by", "ack_comment")
PROBLEM_FIELDS = ("kind", "id", "time", "host", "tags", "problem_id", "key", "action",
                  "cause", "incident_count", "incident_ids", "suspected_incident_id",
                  "suspected_check", "first_seen", "last_seen", "summary")
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def seconds(t):
    """A record time (RFC 3339 UTC with milliseconds) as Unix seconds."""
    return calendar.timegm(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) + int(t[20:23]) / 1000.0


def unique(records):
    """Records in order, the later copies of a record id (allowed after kill -9) dropped."""
    seen = set()
    out = []
    for r in records:
        if r["id"] not in seen:
            seen.add(r["id"])
            out.append(r)
    return out


def problems(records, key=None):
    return [r for r in records if r.get("kind") == "problem" and (key is None or r["key"] == key)]


class Incidents(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()
        self.agents = []
        self.state_dir = self.w.file("state")

    def tearDown(self):
        for a in self.agents:
            if a.proc and a.proc.poll() is None:
                a.kill9()
        self.w.cleanup()

    # --- helpers -------------------------------------------------------------------

    def script(self, name):
        """An exec check script: critical while NAME.flag exists; logs each run. While
        NAME.bounce exists, one run is ok (and removes it): a recovery followed by a
        relapse one interval later, whatever the test's own latency."""
        flag = self.w.file(name + ".flag")
        bounce = self.w.file(name + ".bounce")
        runs = self.w.file(name + ".runs")
        path = self.w.write(name + ".sh",
                            "#!/bin/sh\necho run >> %s\n"
                            "if [ -e %s ]; then rm -f %s; echo \"OK: %s is up\"; exit 0; fi\n"
                            "if [ -e %s ]; then echo \"CRITICAL: %s is down\"; exit 2; fi\n"
                            "echo \"OK: %s is up\"\nexit 0\n"
                            % (runs, bounce, bounce, name, flag, name, name), mode=0o755)
        return path

    def check_section(self, name, extra=""):
        return "[exec %s]\ncommand = %s\ninterval = 200ms\n%s" % (name, self.script(name), extra)

    def write_config(self, incidents_body="", checks=None, agent_extra=""):
        if checks is None:
            checks = [self.check_section("svc")]
        text = ("[agent]\nstate_dir = %s\nhostname = %s\ninterval = 200ms\nheartbeat = 500ms\n"
                "status_listen = off\n%s" % (self.state_dir, HOST, agent_extra))
        if incidents_body:
            text += "[incidents]\n" + incidents_body
        # Records reach stdout a flush_interval after they are spooled: keep it short.
        text += "[output]\nurl = stdout\nflush_interval = 100ms\n" + "".join(checks)
        return self.w.write("vigil.ini", text)

    def start(self, config, agent=None):
        if agent is None:
            agent = Agent(self.w, config)
            self.agents.append(agent)
        return agent.start()

    def flag(self, name="svc", on=True):
        p = self.w.file(name + ".flag")
        if on:
            open(p, "w").close()
        elif os.path.exists(p):
            os.unlink(p)

    def runs(self, name="svc"):
        p = self.w.file(name + ".runs")
        if not os.path.exists(p):
            return 0
        with open(p) as f:
            return len(f.readlines())

    def wait_runs(self, more, name="svc"):
        """Waits until the check has run `more` more times from now."""
        target = self.runs(name) + more
        wait_for(lambda: self.runs(name) >= target, what="%d more runs of %s" % (more, name))

    def wait_incident(self, a, action, check="svc", after=0, **fields):
        """The first incident record of CHECK with ACTION (and FIELDS) beyond the first AFTER."""
        def find():
            found = [r for r in incidents(unique(a.records()), check) if r["action"] == action
                     and all(r[k] == v for k, v in fields.items())]
            return found[after] if len(found) > after else None
        return wait_for(find, what="incident %s #%d of %s %s" % (action, after + 1, check, fields))

    def wait_event(self, a, check, state, after=0, previous=False):
        def find():
            found = [e for e in events(unique(a.records()), check) if e["state"] == state
                     and (previous is False or e["previous_state"] == previous)]
            return found[after] if len(found) > after else None
        return wait_for(find, what="event %s #%d of %s" % (state, after + 1, check))

    def wait_heartbeat_after(self, a, t):
        """Waits for a heartbeat stamped at or after Unix time t: the agent's own clock."""
        return a.wait_record(lambda r: r["kind"] == "heartbeat" and seconds(r["time"]) >= t,
                             what="a heartbeat at or after %.3f" % t)

    def assert_well_formed(self, records):
        """Every field docs/RECORDS.md lists in every incident and problem record, and per
        key a sane sequence: never a second open for an open key, no action on a closed
        one."""
        open_by_key = {}
        for r in unique(records):
            if r["kind"] == "incident":
                for k in INCIDENT_FIELDS:
                    self.assertIn(k, r, "incident record lacks %s: %s" % (k, r))
                self.assertRegex(r["incident_id"], UUID)
                self.assertEqual(r["key"], "%s/%s" % (HOST, r["check"]))
                self.assertIsInstance(r["flapping"], bool)
                self.assertIsInstance(r["occurrences"], int)
                self.assertIsInstance(r["escalation_level"], int)
                self.assertIsInstance(r["tags"], dict)
                if r["action"] == "open":
                    self.assertNotIn(r["key"], open_by_key,
                                     "a second open for an open key: %s" % r)
                    open_by_key[r["key"]] = r["incident_id"]
                else:
                    self.assertEqual(open_by_key.get(r["key"]), r["incident_id"],
                                     "%s of an incident that is not open: %s" % (r["action"], r))
                if r["action"] == "resolve":
                    self.assertEqual(r["status"], "resolved")
                    self.assertIsNotNone(r["resolved_at"])
                    del open_by_key[r["key"]]
                else:
                    self.assertEqual(r["status"], "open")
                    self.assertIsNone(r["resolved_at"])
            elif r["kind"] == "problem":
                for k in PROBLEM_FIELDS:
                    self.assertIn(k, r, "problem record lacks %s: %s" % (k, r))
                self.assertRegex(r["problem_id"], UUID)
                self.assertIsInstance(r["incident_ids"], list)
                self.assertEqual(r["incident_count"], len(r["incident_ids"]))

    # --- open, resolve, relapse ----------------------------------------------------

    def test_open_then_resolve_with_every_field(self):
        a = self.start(self.write_config(checks=[self.check_section(
            "svc", "runbook = https://runbooks/svc\n")]))
        self.wait_event(a, "svc", "ok")
        self.flag()
        opened = self.wait_incident(a, "open")
        crit = self.wait_event(a, "svc", "critical")
        self.assertEqual(opened["status"], "open")
        self.assertEqual(opened["severity"], "critical")
        self.assertEqual(opened["escalation_level"], 0)
        self.assertEqual(opened["occurrences"], 1)
        self.assertEqual(opened["key"], HOST + "/svc")
        self.assertEqual(opened["host"], HOST)
        self.assertEqual(opened["check"], "svc")
        self.assertEqual(opened["event_id"], crit["id"])
        self.assertIs(opened["flapping"], False)
        self.assertIsNone(opened["resolved_at"])
        self.assertEqual(opened["runbook"], "https://runbooks/svc")
        self.assertIn("svc is down", opened["summary"])
        self.assertEqual(seconds(opened["opened_at"]), seconds(opened["time"]))
        # The check keeps failing for several more runs: still one incident.
        self.wait_runs(6)
        self.flag(on=False)
        resolved = self.wait_incident(a, "resolve")
        ok = self.wait_event(a, "svc", "ok", previous="critical")
        self.assertEqual(resolved["incident_id"], opened["incident_id"])
        self.assertEqual(resolved["status"], "resolved")
        self.assertEqual(resolved["opened_at"], opened["opened_at"])
        self.assertGreaterEqual(seconds(resolved["resolved_at"]), seconds(opened["opened_at"]))
        self.assertEqual(resolved["severity"], "critical")
        self.assertEqual(resolved["event_id"], ok["id"])
        self.assertEqual(resolved["escalation_level"], 0)
        self.assertEqual(resolved["runbook"], "https://runbooks/svc")
        self.assertEqual(a.stop(), 0)
        records = a.records()
        self.assert_well_formed(records)
        mine = incidents(records, "svc")
        self.assertEqual([r["action"] for r in mine], ["open", "resolve"])
        # The heartbeat carries the loss counters, all zero here.
        beats = [r for r in records if r["kind"] == "heartbeat"]
        self.assertTrue(beats)
        for h in beats:
            for k in ("dropped", "corrupt_frames", "dead_lettered", "log_bytes_skipped",
                      "spool_records", "uptime_seconds"):
                self.assertIn(k, h)
            for k in ("dropped", "corrupt_frames", "dead_lettered", "log_bytes_skipped"):
                self.assertEqual(h[k], 0, "%s in %s" % (k, h))

    def test_relapse_within_resolve_after_continues_the_incident(self):
        a = self.start(self.write_config("resolve_after = 1s\n"))
        self.wait_event(a, "svc", "ok")
        self.flag()
        opened = self.wait_incident(a, "open")
        # One ok run, then critical again at the next run (200 ms later): a relapse
        # well within resolve_after. On a starved machine the gap could exceed it;
        # then the attempt proves nothing and is repeated.
        for attempt in range(3):
            open(self.w.file("svc.bounce"), "w").close()
            ok = self.wait_event(a, "svc", "ok", after=attempt, previous="critical")
            relapse = self.wait_event(a, "svc", "critical", after=attempt + 1)
            if seconds(relapse["time"]) - seconds(ok["time"]) < 0.9:
                break
        else:
            self.fail("no relapse within 0.9 s of a recovery in three attempts")
        self.wait_heartbeat_after(a, seconds(relapse["time"]) + 1.5)
        mine = incidents(unique(a.records()), "svc")
        # The quick relapse continued the incident open before it: no resolve since.
        since_ok = [r for r in mine if seconds(r["time"]) >= seconds(ok["time"])]
        self.assertEqual(since_ok, [])
        last_open = [r for r in mine if r["action"] == "open"][-1]
        if attempt == 0:
            self.assertEqual([r["action"] for r in mine], ["open"])
            self.assertEqual(last_open["incident_id"], opened["incident_id"])
        # Now recover for good: the resolve comes after a second of ok, same incident.
        self.flag(on=False)
        ok2 = self.wait_event(a, "svc", "ok", after=attempt + 1, previous="critical")
        resolved = self.wait_incident(a, "resolve", incident_id=last_open["incident_id"])
        self.assertGreaterEqual(seconds(resolved["time"]) - seconds(ok2["time"]), 0.95)
        if attempt == 0:
            self.assertEqual(resolved["incident_id"], opened["incident_id"])
            self.assertEqual(resolved["occurrences"], 2)  # the open and the relapse
        self.assertEqual(a.stop(), 0)
        self.assert_well_formed(a.records())

    # --- escalation and renotify ---------------------------------------------------

    def test_escalation_levels_follow_escalate_after(self):
        a = self.start(self.write_config("escalate_after = 2s, 4s\n"))
        self.wait_event(a, "svc", "ok")
        self.flag()
        opened = self.wait_incident(a, "open")
        esc2 = self.wait_incident(a, "escalate", escalation_level=2)
        # Nothing beyond the list: watch for two more seconds of the agent's clock.
        self.wait_heartbeat_after(a, seconds(esc2["time"]) + 2.0)
        self.assertEqual(a.stop(), 0)
        records = a.records()
        self.assert_well_formed(records)
        escs = [r for r in incidents(records, "svc") if r["action"] == "escalate"]
        self.assertEqual([r["escalation_level"] for r in escs], [1, 2])
        t0 = seconds(opened["time"])
        self.assertGreaterEqual(seconds(escs[0]["time"]) - t0, 1.9)
        self.assertLess(seconds(escs[0]["time"]) - t0, 10)
        self.assertGreaterEqual(seconds(escs[1]["time"]) - t0, 3.5)
        self.assertLess(seconds(escs[1]["time"]) - t0, 12)
        for e in escs:
            self.assertEqual(e["incident_id"], opened["incident_id"])
            self.assertEqual(e["status"], "open")
            self.assertEqual(e["severity"], "critical")

    def test_renotify_while_open_and_not_after_resolve(self):
        a = self.start(self.write_config("renotify = 1s\n"))
        self.wait_event(a, "svc", "ok")
        self.flag()
        opened = self.wait_incident(a, "open")
        second = self.wait_incident(a, "renotify", after=1)
        self.flag(on=False)
        resolved = self.wait_incident(a, "resolve")
        self.wait_heartbeat_after(a, seconds(resolved["time"]) + 2.0)
        self.assertEqual(a.stop(), 0)
        records = a.records()
        self.assert_well_formed(records)
        mine = incidents(records, "svc")
        renotes = [r for r in mine if r["action"] == "renotify"]
        self.assertGreaterEqual(len(renotes), 2)
        self.assertIn(second, renotes)
        previous = opened
        for r in renotes:
            self.assertEqual(r["incident_id"], opened["incident_id"])
            self.assertEqual(r["status"], "open")
            self.assertGreaterEqual(seconds(r["time"]) - seconds(previous["time"]), 0.95)
            self.assertLessEqual(seconds(r["time"]), seconds(resolved["time"]))
            previous = r
        self.assertEqual(mine[-1]["action"], "resolve")
        self.assertEqual(mine.index(resolved), len(mine) - 1)

    def test_check_override_beats_the_incidents_section(self):
        a = self.start(self.write_config("escalate_after = 1h\n", checks=[
            self.check_section("fast", "escalate_after = 1s\n"), self.check_section("slow")]))
        self.wait_event(a, "fast", "ok")
        self.wait_event(a, "slow", "ok")
        self.flag("fast")
        self.flag("slow")
        fast_open = self.wait_incident(a, "open", check="fast")
        slow_open = self.wait_incident(a, "open", check="slow")
        esc = self.wait_incident(a, "escalate", check="fast")
        self.assertEqual(esc["escalation_level"], 1)
        self.assertEqual(esc["incident_id"], fast_open["incident_id"])
        self.assertGreaterEqual(seconds(esc["time"]) - seconds(fast_open["time"]), 0.95)
        # The check without an override follows [incidents]: no escalation in the
        # seconds after it too has been open for more than one second.
        self.wait_heartbeat_after(a, seconds(slow_open["time"]) + 2.5)
        self.assertEqual(a.stop(), 0)
        records = a.records()
        self.assert_well_formed(records)
        self.assertEqual([r["action"] for r in incidents(records, "slow")], ["open"])

    # --- problems and flapping -----------------------------------------------------

    def cycle(self, a, n):
        """Fires and recovers the check once; returns the n-th (0-based) incident's open."""
        self.flag()
        opened = self.wait_incident(a, "open", after=n)
        self.flag(on=False)
        self.wait_incident(a, "resolve", after=n)
        return opened

    def test_three_incidents_open_a_problem_and_a_fourth_updates_it(self):
        a = self.start(self.write_config(
            "problem_count = 3\nproblem_window = 1h\nflap_changes = 100\n"))
        self.wait_event(a, "svc", "ok")
        ids = [self.cycle(a, 0)["incident_id"], self.cycle(a, 1)["incident_id"]]
        self.assertEqual(problems(unique(a.records())), [])
        ids.append(self.cycle(a, 2)["incident_id"])
        p_open = a.wait_record(lambda r: r["kind"] == "problem" and r["action"] == "open",
                               what="the problem's open")
        self.assertEqual(p_open["key"], HOST + "/svc")
        self.assertEqual(p_open["incident_count"], 3)
        self.assertEqual(p_open["incident_ids"], ids)
        self.assertLessEqual(seconds(p_open["first_seen"]), seconds(p_open["last_seen"]))
        ids.append(self.cycle(a, 3)["incident_id"])
        p_upd = a.wait_record(lambda r: r["kind"] == "problem" and r["action"] == "update",
                              what="the problem's update")
        self.assertEqual(p_upd["problem_id"], p_open["problem_id"])
        self.assertEqual(p_upd["incident_count"], 4)
        self.assertEqual(p_upd["incident_ids"], ids)
        self.assertEqual(a.stop(), 0)
        records = a.records()
        self.assert_well_formed(records)
        self.assertEqual([p["action"] for p in problems(records)], ["open", "update"])
        self.assertEqual(len(set(ids)), 4)
        for r in incidents(records, "svc"):
            self.assertIs(r["flapping"], False)

    def test_third_incident_flaps_under_the_defaults(self):
        a = self.start(self.write_config())
        self.wait_event(a, "svc", "ok")
        first = self.cycle(a, 0)
        second = self.cycle(a, 1)
        self.flag()
        third = self.wait_incident(a, "open", after=2)
        self.assertIs(first["flapping"], False)
        self.assertIs(second["flapping"], False)
        self.assertIs(third["flapping"], True)
        # While it flaps, a return to ok does not resolve it.
        self.flag(on=False)
        ok = self.wait_event(a, "svc", "ok", after=2, previous="critical")
        self.wait_heartbeat_after(a, seconds(ok["time"]) + 1.5)
        self.assertEqual(a.stop(), 0)
        records = a.records()
        self.assert_well_formed(records)
        self.assertEqual([r["action"] for r in incidents(records, "svc")],
                         ["open", "resolve", "open", "resolve", "open"])

    # --- restarts ------------------------------------------------------------------

    def restart_keeps_the_incident(self, stop):
        config = self.write_config()
        a = self.start(config)
        self.wait_event(a, "svc", "ok")
        self.flag()
        opened = self.wait_incident(a, "open")
        crit = self.wait_event(a, "svc", "critical")
        stop(a)
        self.start(config, a)
        # The check runs on, still failing, well after the restart.
        wait_for(lambda: [r for r in a.records(run=2) if r["kind"] == "heartbeat"],
                 what="the second run's heartbeat")
        self.wait_runs(6)
        # Copies (by id) of the first run's records are allowed after kill -9.
        first_run = {r["id"] for r in a.records(run=1)}
        self.assertEqual([r for r in incidents(a.records(run=2), "svc")
                          if r["action"] == "open" and r["id"] not in first_run], [])
        self.flag(on=False)
        resolved = self.wait_incident(a, "resolve")
        self.assertEqual(resolved["incident_id"], opened["incident_id"])
        self.assertEqual(resolved["opened_at"], opened["opened_at"])
        self.assertEqual(a.stop(), 0)
        records = a.records()
        self.assert_well_formed(records)
        self.assertIn(crit["id"], {r["id"] for r in records})
        self.assertEqual([r["action"] for r in incidents(unique(records), "svc")],
                         ["open", "resolve"])
        return a

    def test_sigterm_restart_neither_reopens_nor_forgets(self):
        def term(a):
            self.assertEqual(a.stop(), 0)
        self.restart_keeps_the_incident(term)

    def test_kill9_restart_neither_reopens_nor_forgets(self):
        self.restart_keeps_the_incident(lambda a: a.kill9())

    def test_kill9_while_the_open_is_being_committed(self):
        # Killed as soon as the script has run with the flag: before, during or just
        # after the agent commits the incident. Whatever it saved is announced after
        # the restart, and nothing it announced is forgotten: one open in all, its
        # event included, and the resolve carries its id.
        config = self.write_config()
        a = self.start(config)
        self.wait_event(a, "svc", "ok")
        self.flag()
        self.wait_runs(1)
        a.kill9()
        self.start(config, a)
        wait_for(lambda: [r for r in a.records(run=2) if r["kind"] == "heartbeat"],
                 what="the second run's heartbeat")
        opened = self.wait_incident(a, "open")
        self.wait_runs(4)
        self.flag(on=False)
        resolved = self.wait_incident(a, "resolve")
        self.assertEqual(resolved["incident_id"], opened["incident_id"])
        self.assertEqual(a.stop(), 0)
        records = a.records()
        self.assert_well_formed(records)
        self.assertEqual([r["action"] for r in incidents(unique(records), "svc")],
                         ["open", "resolve"])
        crit = [e for e in events(records, "svc") if e["id"] == opened["event_id"]]
        self.assertEqual(len({e["id"] for e in crit}), 1)
        self.assertEqual(crit[0]["state"], "critical")

    def test_check_removed_while_down_resolves_its_incident(self):
        a = self.start(self.write_config(checks=[self.check_section("svc"),
                                                 self.check_section("other")]))
        self.wait_event(a, "svc", "ok")
        self.flag()
        opened = self.wait_incident(a, "open")
        self.assertEqual(a.stop(), 0)
        self.write_config(checks=[self.check_section("other")])
        self.start(a.config, a)
        resolved = self.wait_incident(a, "resolve")
        self.assertEqual(resolved["incident_id"], opened["incident_id"])
        self.assertEqual(resolved["status"], "resolved")
        self.assertIn("removed", resolved["summary"])
        self.assertIn("svc", resolved["summary"])
        self.assertEqual(a.stop(), 0)
        self.assert_well_formed(a.records())
        self.assertEqual([r["action"] for r in incidents(unique(a.records()), "svc")],
                         ["open", "resolve"])

    def test_damaged_state_file_is_kept_aside_and_reported(self):
        config = self.write_config()
        a = self.start(config)
        self.wait_event(a, "svc", "ok")
        self.flag()
        self.wait_incident(a, "open")
        self.assertEqual(a.stop(), 0)
        # Both slots of the state file damaged in their document: neither is usable.
        damaged = {}
        for slot in ("state.0", "state.1"):
            path = os.path.join(self.state_dir, slot)
            with open(path, "r+b") as f:
                data = bytearray(f.read())
                self.assertGreater(len(data), 64)
                data[40] ^= 0x5A
                f.seek(0)
                f.write(data)
            damaged[slot] = bytes(data)
        self.start(config, a)
        event = self.wait_event(a, "vigil", "warning")
        self.assertEqual(event["plugin"], "vigil")
        self.assertEqual(event["metric"], "corrupt_frames")
        self.assertGreaterEqual(event["value"], 1)
        beat = a.wait_record(lambda r: r["kind"] == "heartbeat" and r["corrupt_frames"] >= 1,
                             what="a heartbeat counting the corrupt state file")
        for k in ("dropped", "dead_lettered", "log_bytes_skipped"):
            self.assertEqual(beat[k], 0)
        self.assertFalse(a.exited())
        self.assertIn("state file", a.stderr())
        aside = sorted(n for n in os.listdir(self.state_dir) if ".corrupt-" in n)
        self.assertEqual(len(aside), 2, os.listdir(self.state_dir))
        for n in aside:
            with open(os.path.join(self.state_dir, n), "rb") as f:
                self.assertEqual(f.read(), damaged[n.split(".corrupt-")[0]])
            self.assertIn(n, a.stderr())
        self.assertEqual(a.stop(), 0)
        self.assert_well_formed(a.records(run=2))


if __name__ == "__main__":
    harness.main()
