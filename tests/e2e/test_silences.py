"""Silences, maintenance windows and acks with the real binary (docs/SILENCES.md).

Checks are exec scripts whose exit code a file decides, so a test trips and
clears them at will. A `file:` output shows every record (silenced ones too);
a PagerDuty-format output to a real HTTPS receiver shows what a pager would get
(`silenced = skip`, its default). Waits are for records and requests with
deadlines; where the point is that nothing happens before a time (no escalation
while acked), the test waits for the wall clock to pass that time.
"""

import calendar
import json
import os
import re
import signal
import socket
import subprocess
import time
import unittest

import harness
from harness import Agent, AgentTestCase, incidents, run_cli, wait_for
from receiver_harness import Receiver, WithCerts
from status_client import http_get

ROUTING_KEY = "R0123456789abcdef0123456789abcdef"
HOST = "silencehost"
UUID4 = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
EXEC = 'exit "$(cat "$0.code")"\n'


def seconds(t):
    """An RFC 3339 UTC time with milliseconds as Unix seconds."""
    return calendar.timegm(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) + int(t[20:23]) / 1000.0


def rfc3339(unix):
    secs, ms = divmod(int(round(unix * 1000)), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + ".%03dZ" % ms


def wait_clock(unix, what):
    """Waits until the wall clock has passed `unix`: what is asserted is that
    nothing happened before then."""
    wait_for(lambda: time.time() > unix, unix - time.time() + 5, what)


class SilenceCase(AgentTestCase):
    def exec_check(self, name, code, interval, extra=""):
        """A check's section; `code` (None: as it is) is what its script exits with."""
        script = self.w.write(name + ".sh", EXEC)
        if code is not None:
            self.set_code(name, code)
        return "[exec %s]\ncommand = /bin/sh %s\ninterval = %s\n%s" % (
            name, script, interval, extra)

    def set_code(self, name, code):
        path = self.w.file(name + ".sh.code")
        with open(path + ".tmp", "w") as f:
            f.write("%d\n" % code)
        os.rename(path + ".tmp", path)

    def cli(self, *args, config=None, user=None):
        """`vigil ARGS -c CONFIG`, as root or, with `user`, through setpriv."""
        argv = list(args) + ["-c", config or self.config]
        if user is None:
            return run_cli(argv)
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        return subprocess.run(["setpriv"] + user + ["--", harness.VIGIL] + argv,
                              capture_output=True, text=True, env=env, timeout=60)

    def refused(self, r, *fragments):
        """Exit 1, nothing on stdout, one `vigil:` line on stderr saying why."""
        self.assertEqual(r.returncode, 1, r)
        self.assertEqual(r.stdout, "")
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("vigil: "), lines[0])
        for f in fragments:
            self.assertIn(f, lines[0])

    def add(self, *args):
        r = self.cli("silence", "add", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout.strip(), UUID4)
        return r.stdout.strip()

    def listed(self, *flags):
        r = self.cli("silence", "list", "--json", *flags)
        self.assertEqual(r.returncode, 0, r.stderr)
        return {s["id"]: s for s in json.loads(r.stdout)}

    def file_incidents(self, check):
        if not os.path.exists(self.w.file("out.jsonl")):
            return []
        with open(self.w.file("out.jsonl")) as f:
            return incidents([json.loads(line) for line in f if line.endswith("\n")], check)

    def wait_incident(self, check, predicate, what, timeout=20):
        def find():
            for r in self.file_incidents(check):
                if predicate(r):
                    return r
            return None
        return wait_for(find, timeout, what)


class Silences(WithCerts, SilenceCase):
    def pd_events(self, check):
        return [r["body"] for r in self.rx.requests()
                if r["status"] == 200 and r["body"]["payload"]["component"] == check]

    def pd_times(self, check):
        return [(r["time"], r["body"]) for r in self.rx.requests()
                if r["status"] == 200 and r["body"]["payload"]["component"] == check]

    def start_agent(self):
        a = Agent(self.w, self.config).start()
        self.agents.append(a)
        wait_for(lambda: a.exited() or self.cli("silence", "list").returncode == 0, 20,
                 "the status socket")
        self.assertFalse(a.exited(), a.stderr())
        return a

    def test_silences_and_acks_as_a_pagerduty_receiver_and_a_file_see_them(self):
        self.rx = Receiver(self.w, self.cert_dir).start()
        self.receivers.append(self.rx)
        self.config = self.w.write("vigil.ini", (
            "[agent]\nstate_dir = %s\nhostname = %s\nheartbeat = 0\n"
            "[output file]\nurl = file:%s\n"
            "[output pd]\nurl = %s\nformat = pagerduty\nrouting_key = %s\nca_file = %s\n"
            "retry_max = 1s\nflush_interval = 100ms\n" % (
                self.w.file("state"), HOST, self.w.file("out.jsonl"),
                self.rx.url("/v2/enqueue"), ROUTING_KEY,
                os.path.join(self.cert_dir, "ca.crt")))
            + self.exec_check("disk_root", 0, "1s")
            + self.exec_check("ackcheck", 1, "250ms", "escalate_after = 2s, 4s\n"))
        agent = self.start_agent()

        # Ack: the warning opens at once and is acknowledged within its first second
        # or so, well before escalate_after's first 2 s.
        opened = self.wait_incident("ackcheck", lambda r: r["action"] == "open", "ackcheck open")
        r = self.cli("ack", "ackcheck", "--comment", "on it")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "acknowledged incident %s of ackcheck as root"
                         % opened["incident_id"])
        ack = self.wait_incident("ackcheck", lambda r: r["action"] == "ack", "the ack record")
        self.assertLess(seconds(ack["time"]) - seconds(opened["opened_at"]), 2.0)
        self.assertEqual((ack["acknowledged_by"], ack["ack_comment"]), ("root", "on it"))
        self.assertEqual(ack["acknowledged_at"], ack["time"])
        self.refused(self.cli("ack", "ackcheck"), "acknowledged by root")
        self.refused(self.cli("ack", "nosuchcheck"), "no open incident")

        # Refusals: each exits 1 with one line.
        self.refused(self.cli("silence", "add", "--for", "3s", "--comment", "x"),
                     "at least one matcher")
        self.refused(self.cli("silence", "add", "check=disk_root", "--for", "0s",
                              "--comment", "x"), "must end after it starts")
        self.refused(self.cli("silence", "add", "check=disk_root", "--until",
                              "2020-01-01T00:00:00Z", "--comment", "x"),
                     "must end after it starts")
        self.refused(self.cli("silence", "add", "check=~.*", "--for", "3s", "--comment", "x"),
                     "match every incident")
        self.refused(self.cli("silence", "add", "check!=x", "--for", "3s", "--comment", "x"),
                     "match every incident")
        self.refused(self.cli("silence", "add", "check=disk_root", "--for", "3s"), "comment")
        self.refused(self.cli("silence", "add", "host=web1", "--for", "3s", "--comment", "x"),
                     "check, plugin, severity or tag.KEY")
        self.assertEqual(self.cli("silence", "add", "check=x", "--bogus").returncode, 2)
        self.assertEqual(self.listed("--all"), {})

        # A 3 s silence, then the check trips: the file gets the open, silenced; the
        # pager gets nothing.
        sid = self.add("check=disk_root", "--for", "3s", "--comment", "disk swap")
        s = self.listed()[sid]
        self.assertEqual(sorted(s), ["comment", "createdBy", "endsAt", "expireOnResolve", "id",
                                     "matchers", "peer", "startsAt", "status", "updatedAt",
                                     "window"])
        self.assertEqual(s["matchers"], [{"name": "check", "value": "disk_root",
                                          "isRegex": False, "isEqual": True}])
        self.assertEqual(s["status"], {"state": "active"})
        self.assertEqual((s["createdBy"], s["peer"], s["comment"]), ("root", "root", "disk swap"))
        self.assertAlmostEqual(seconds(s["endsAt"]) - seconds(s["startsAt"]), 3.0, delta=0.1)
        self.set_code("disk_root", 2)
        open_ = self.wait_incident("disk_root", lambda r: r["action"] == "open", "the open")
        self.assertIs(open_["silenced"], True)
        self.assertEqual(open_["silence_ids"], [sid])
        self.assertLess(seconds(open_["time"]), seconds(s["endsAt"]))
        self.assertEqual(self.pd_events("disk_root"), [])

        # The silence ends with the check still critical: an update says so at once,
        # and the pager gets it as a trigger within one interval (1 s).
        trigger = wait_for(lambda: self.pd_times("disk_root"), 10, "the trigger")[0]
        ends = seconds(s["endsAt"])
        self.assertEqual(trigger[1]["event_action"], "trigger")
        details = trigger[1]["payload"]["custom_details"]
        self.assertEqual((details["action"], details["silenced"], details["silence_ids"]),
                         ("update", False, []))
        self.assertEqual(details["incident_id"], open_["incident_id"])
        self.assertGreaterEqual(seconds(details["time"]), ends)
        self.assertLess(trigger[0] - ends, 1.0)
        self.assertEqual(self.listed("--all")[sid]["status"]["state"], "expired")
        self.assertNotIn(sid, self.listed())

        # No escalation while acked, however long past escalate_after: the wall clock
        # passes the second step with the incident acknowledged.
        wait_clock(seconds(opened["opened_at"]) + 4.5, "4.5 s after ackcheck opened")
        self.assertEqual([r["action"] for r in self.file_incidents("ackcheck")], ["open", "ack"])
        self.assertEqual([b["event_action"] for b in self.pd_events("ackcheck")],
                         ["trigger", "acknowledge"])
        # warning -> critical clears the ack, and the escalations due follow.
        self.set_code("ackcheck", 2)
        self.wait_incident("ackcheck", lambda r: r["escalation_level"] == 2, "level 2")
        after_ack = self.file_incidents("ackcheck")[2:]
        self.assertEqual([(r["action"], r["severity"], r["acknowledged_at"]) for r in after_ack],
                         [("update", "critical", None), ("escalate", "critical", None),
                          ("escalate", "critical", None)])
        wait_for(lambda: len(self.pd_events("ackcheck")) == 5, 10, "the pager's escalations")

        # expire: an active silence becomes expired, and only once.
        other = self.add("check=never", "tag.env=prod", "--for", "1h", "--comment", "spare")
        r = self.cli("silence", "expire", other)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, other + " expired"), r.stderr)
        self.assertEqual(self.listed("--all")[other]["status"]["state"], "expired")
        self.assertNotIn(other, self.listed())
        self.refused(self.cli("silence", "expire", other), "expired already")
        self.refused(self.cli("silence", "expire", "no-such-id"), "no silence")

        # --expire-on-resolve: it mutes the open incident (an update), and the
        # incident's resolve ends it. The pager, which holds the incident, gets the
        # resolve and nothing between.
        eor = self.add("check=disk_root", "--for", "1h", "--comment", "until fixed",
                       "--expire-on-resolve")
        self.wait_incident("disk_root", lambda r: r["silence_ids"] == [eor], "the muting update")
        self.set_code("disk_root", 0)
        resolve = self.wait_incident("disk_root", lambda r: r["action"] == "resolve",
                                     "the resolve")
        self.assertEqual((resolve["silenced"], resolve["silence_ids"]), (True, [eor]))
        ended = self.listed("--all")[eor]
        self.assertEqual(ended["status"]["state"], "expired")
        self.assertEqual(ended["endsAt"], resolve["time"])
        wait_for(lambda: [b["event_action"] for b in self.pd_events("disk_root")] ==
                 ["trigger", "resolve"], 10, "the pager's resolve")

        # A silence survives a restart, with its id and fields.
        kept = self.add("check=ackcheck", "--for", "1h", "--comment", "kept",
                        "--author", "alice")
        before = self.listed("--all")
        self.assertEqual(agent.stop(), 0)
        with open(self.w.file("state/silences.json")) as f:
            self.assertIn(kept, f.read())
        self.start_agent()
        after = self.listed("--all")
        self.assertEqual(sorted(after), sorted(before))
        for i in after:
            self.assertEqual({k: v for k, v in after[i].items() if k != "status"},
                             {k: v for k, v in before[i].items() if k != "status"})
        self.assertEqual(after[kept]["status"]["state"], "active")
        self.assertEqual((after[kept]["createdBy"], after[kept]["peer"]), ("alice", "root"))
        self.assertEqual(self.cli("silence", "list").stdout.count("\n"), 2)  # header, kept
        self.assertIn("check=ackcheck", self.cli("silence", "list").stdout)


class Windows(SilenceCase):
    def test_a_window_a_few_seconds_ahead_mutes_exactly_inside_it(self):
        port_sock = socket.socket()
        port_sock.bind(("127.0.0.1", 0))
        port = port_sock.getsockname()[1]
        port_sock.close()
        starts = round(time.time() + 2.5, 3)
        ends = starts + 2.0

        def config(windows, before=None, inside=None):
            return self.w.write("vigil.ini", (
                "[agent]\nstate_dir = %s\nhostname = %s\nheartbeat = 0\n"
                "status_listen = 127.0.0.1:%d\n[output file]\nurl = file:%s\n" % (
                    self.w.file("state"), HOST, port, self.w.file("out.jsonl")))
                + self.exec_check("before", before, "300ms")
                + self.exec_check("inside", inside, "300ms") + windows)

        self.config = config(
            "[silence soon]\nmatch = check=~before|inside\ncomment = deploy\n"
            "starts = %s\nends = %s\n" % (rfc3339(starts), rfc3339(ends)), before=2, inside=0)
        agent = Agent(self.w, self.config).start()
        self.agents.append(agent)

        opened = self.wait_incident("before", lambda r: r["action"] == "open", "before opens")
        self.assertIs(opened["silenced"], False)
        muted = self.wait_incident("before", lambda r: r["silenced"], "before muted", 10)
        self.assertEqual((muted["action"], muted["silence_ids"]), ("update", ["config:soon"]))
        self.assertGreaterEqual(seconds(muted["time"]), starts)
        self.assertLess(seconds(muted["time"]), starts + 1.0)
        # A check that fails inside the window opens muted.
        self.set_code("inside", 2)
        inside = self.wait_incident("inside", lambda r: r["action"] == "open", "inside opens")
        self.assertEqual((inside["silenced"], inside["silence_ids"]), (True, ["config:soon"]))
        for check in ("before", "inside"):
            unmuted = self.wait_incident(
                check, lambda r: r["action"] == "update" and not r["silenced"], check + " unmuted",
                10)
            self.assertGreaterEqual(seconds(unmuted["time"]), ends)
            self.assertLess(seconds(unmuted["time"]), ends + 1.0)
            self.assertEqual(unmuted["silence_ids"], [])

        # Over TCP the control endpoints answer 403, to the CLI and to anyone.
        self.refused(self.cli("silence", "add", "check=x", "--for", "1h", "--comment", "x"),
                     "unix socket only")
        self.refused(self.cli("silence", "list"), "unix socket only")
        self.refused(self.cli("ack", "before"), "unix socket only")
        status, _, body = http_get(
            "127.0.0.1:%d" % port, None,
            raw_request=b"DELETE /silences/config:soon HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(status, 403, body)

        # SIGHUP brings a new window; one open now mutes at once, and ends.
        now = time.time()
        window_end = round(now + 1.5, 3)
        self.config = config(
            "[silence now]\nmatch = check=before\nstarts = %s\nends = %s\n" % (
                rfc3339(now - 60), rfc3339(window_end)))
        agent.signal(signal.SIGHUP)
        again = self.wait_incident("before", lambda r: r["silence_ids"] == ["config:now"],
                                   "before muted by the new window")
        self.assertLess(seconds(again["time"]) - now, 2.0)
        self.wait_incident("before", lambda r: r["action"] == "update" and not r["silenced"]
                           and seconds(r["time"]) >= window_end, "before unmuted again", 10)
        self.assertEqual([r["silenced"] for r in self.file_incidents("inside")], [True, False])
        self.assertEqual(agent.stop(), 0)


class Permissions(SilenceCase):
    def test_who_cannot_write_the_socket_cannot_add_a_silence(self):
        if os.geteuid() != 0:
            self.skipTest("switching users needs root")
        # The configuration is readable by anyone, the state_dir (0750) and its
        # socket (0660) only by root and root's group.
        os.chmod(self.w.path, 0o755)
        self.config = self.w.write("vigil.ini", (
            "[agent]\nstate_dir = %s\nheartbeat = 0\n[output file]\nurl = file:%s\n" % (
                self.w.file("state"), self.w.file("out.jsonl")))
            + self.exec_check("disk_root", 2, "300ms"), 0o644)
        agent = Agent(self.w, self.config).start()
        self.agents.append(agent)
        self.wait_incident("disk_root", lambda r: r["action"] == "open", "the open")
        nobody = ["--reuid", "65534", "--regid", "65534", "--clear-groups"]
        r = self.cli("silence", "add", "check=disk_root", "--for", "1h", "--comment", "x",
                     user=nobody)
        self.refused(r, "cannot be reached", "Permission denied")
        self.refused(self.cli("ack", "disk_root", user=nobody), "Permission denied")
        self.assertEqual(self.listed("--all"), {})
        # In the socket's group, the same user may; the kernel names the author.
        in_group = ["--reuid", "65534", "--regid", "65534", "--groups", "0"]
        r = self.cli("silence", "add", "check=disk_root", "--for", "1h", "--comment", "x",
                     user=in_group)
        self.assertEqual(r.returncode, 0, r.stderr)
        s = self.listed()[r.stdout.strip()]
        self.assertEqual((s["createdBy"], s["peer"]), ("nobody", "nobody"))
        r = self.cli("ack", "disk_root", user=in_group)
        self.assertEqual(r.returncode, 0, r.stderr)
        ack = self.wait_incident("disk_root", lambda r: r["action"] == "ack", "the ack")
        self.assertEqual(ack["acknowledged_by"], "nobody")
        self.assertEqual(agent.stop(), 0)


if __name__ == "__main__":
    harness.main()
