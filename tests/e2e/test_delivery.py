"""Delivery over HTTPS to a real local receiver (docs/RECORDS.md, docs/DELIVERY.md)."""

import json
import os
import re
import signal
import time
import unittest

import harness
from harness import Agent, Workdir, run_cli, wait_for
from receiver_harness import Receiver, WithCerts, free_port

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
TOKEN = "s3cret-Token-0123456789"


def ids(records):
    return [r["id"] for r in records]


def kinds(records, kind):
    return [r for r in records if r["kind"] == kind]


def first_seen(records):
    """Records deduplicated by id (at-least-once), in the order they first arrived."""
    seen = {}
    for r in records:
        if r["id"] in seen:
            assert seen[r["id"]] == r, "a resent id with other content: %s" % r["id"]
        else:
            seen[r["id"]] = r
    return list(seen.values())


class Delivery(WithCerts, harness.AgentTestCase):
    def cert(self, name):
        return os.path.join(self.cert_dir, name)

    def receiver(self, name="rx", cert="server"):
        r = Receiver(self.w, self.cert_dir, name=name, cert=cert)
        self.receivers.append(r)
        return r.start()

    def config(self, body, agent="", name="agent"):
        return self.w.write(name + ".ini", (
            "[agent]\nstate_dir = %s\nhostname = e2e-host\nheartbeat = 1s\ninterval = 1s\n%s\n"
            "%s\n") % (self.w.file(name + "-state"), agent, body))

    def start(self, body, agent="", env=None, name="agent"):
        a = Agent(self.w, self.config(body, agent, name), env=env, name=name).start()
        self.agents.append(a)
        return a

    def output(self, rx, name="default", path="/ingest", extra=""):
        return "[output %s]\nurl = %s\nca_file = %s\nretry_max = 1s\n%s\n" % (
            name, rx.url(path), self.cert("ca.crt"), extra)

    def disk(self, name="scratch"):
        return "[disk %s]\npath = %s\ncritical = used_percent >= 0\n" % (name, self.w.path)

    def status(self, agent):
        """GET /status through `vigil status --json`, once the agent answers."""
        def ask():
            r = run_cli(["status", "-c", agent.config, "--json"])
            return r.stdout if r.returncode == 0 else None
        return wait_for(ask, 20, "the status server")

    def output_status(self, agent, name="default"):
        s = json.loads(self.status(agent))
        return [o for o in s["outputs"] if o["name"] == name][0]

    # --- what is sent ---

    def test_body_headers_token_and_gzip(self):
        rx = self.receiver()
        # A failure first, so that the log has lines about this output's requests.
        rx.set_script([{"status": 503, "body": "busy"}, {"status": 200}])
        token = self.w.write("token", "  \n%s \n\n" % TOKEN)
        a = self.start(
            self.output(rx, "plain", "/plain", "token_file = %s\nheader = X-Team: ops\n" % token)
            + self.output(rx, "zipped", "/gz", "compress = gzip\n") + self.disk())

        def got(path, pred):
            for req in rx.requests():
                if req["path"] == path and req["status"] == 200:
                    if any(pred(r) for r in req["body"]["records"]):
                        return req
            return None

        for path in ("/plain", "/gz"):
            wait_for(lambda: got(path, lambda r: r["kind"] == "heartbeat"), what=path + " heartbeat")
            wait_for(lambda: got(path, lambda r: r["kind"] == "event"), what=path + " event")
            wait_for(lambda: got(path, lambda r: r["kind"] == "incident"), what=path + " incident")

        version = run_cli(["--version"]).stdout
        reqs = rx.requests()
        instances = set()
        for req in reqs:
            h = req["headers"]
            self.assertEqual(req["method"], "POST")
            self.assertEqual(h["Content-Type"], "application/json")
            body = req["body"]
            self.assertIsInstance(body, dict, "body not decoded as JSON: %r" % body)
            self.assertEqual(sorted(body), ["agent", "records"])
            self.assertEqual(sorted(body["agent"]), ["host", "instance", "version"])
            self.assertEqual(body["agent"]["host"], "e2e-host")
            self.assertIn(body["agent"]["version"], version)
            instances.add(body["agent"]["instance"])
            self.assertTrue(body["records"])
            for r in body["records"]:
                self.assertRegex(r["id"], "^" + UUID + "$")
                self.assertRegex(r["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
                self.assertEqual(r["host"], "e2e-host")
                self.assertEqual(r["tags"], {})
            if req["path"] == "/plain":
                self.assertEqual(h["Authorization"], "Bearer " + TOKEN)
                self.assertEqual(h["X-Team"], "ops")
                self.assertNotIn("Content-Encoding", h)
            else:
                self.assertEqual(req["path"], "/gz")
                self.assertEqual(h["Content-Encoding"], "gzip")
                self.assertNotIn("Authorization", h)
                self.assertNotIn("X-Team", h)
        self.assertEqual(len(instances), 1)
        self.assertRegex(instances.pop(), "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-")

        ev = [r for r in rx.records() if r["kind"] == "event"][0]
        self.assertEqual((ev["check"], ev["plugin"], ev["state"]), ("scratch", "disk", "critical"))
        inc = [r for r in rx.records() if r["kind"] == "incident"][0]
        self.assertEqual((inc["key"], inc["action"], inc["event_id"]),
                         ("e2e-host/scratch", "open", ev["id"]))

        # The scripted failure went to whichever output's request came first: two
        # outputs post at once, so the order the receiver lists them in is not that.
        self.assertEqual([r["status"] for r in reqs].count(503), 1)
        self.assertNotIn(TOKEN, self.status(a))
        self.assertEqual(a.stop(), 0)
        self.assertIn("HTTP 503", a.stderr())
        self.assertNotIn(TOKEN, a.stderr())

    # --- the endpoint goes away and comes back ---

    def test_endpoint_down_then_back_loses_nothing_and_keeps_order(self):
        rx = self.receiver()
        a = self.start(self.output(rx, extra="flush_interval = 200ms\n") + self.disk())
        rx.wait_record(lambda r: r["kind"] == "heartbeat" and r["uptime_seconds"] >= 1,
                       what="heartbeats before the outage")
        before = max(r["uptime_seconds"] for r in rx.records() if r["kind"] == "heartbeat")
        rx.stop()
        # Heartbeats keep coming while nothing listens: they pile up in the spool.
        wait_for(lambda: self.output_status(a)["spool_records"] >= 3, 30,
                 "records spooled during the outage")
        self.assertGreater(self.output_status(a)["failed"], 0)
        rx.start()
        self.assertEqual(rx.runs, 2)
        rx.wait_record(lambda r: r["kind"] == "heartbeat" and r["uptime_seconds"] >= before + 5,
                       30, "heartbeats after the outage")
        wait_for(lambda: self.output_status(a)["spool_records"] == 0, 30, "an empty spool")
        self.assertEqual(a.stop(), 0)

        got = first_seen(rx.records())
        self.assertEqual(ids(got), sorted(ids(got)), "ids out of order")
        beats = [r["uptime_seconds"] for r in kinds(got, "heartbeat")]
        self.assertEqual(beats, sorted(beats))
        self.assertLess(beats[0], 1.0)  # the first heartbeat, made within a second of start
        gaps = [b - a for a, b in zip(beats, beats[1:])]
        self.assertLessEqual(max(gaps), 2.0, "heartbeats missing: %s" % beats)
        # Each check's first event, the agent's own check ok (nothing was lost).
        self.assertEqual(sorted((e["check"], e["state"], e["previous_state"])
                                for e in kinds(got, "event")),
                         [("scratch", "critical", None), ("vigil", "ok", None)])
        self.assertEqual([i["action"] for i in kinds(got, "incident")], ["open"])

    def test_sigterm_finishes_the_request_in_flight_and_exits_when_delivered(self):
        rx = self.receiver()
        rx.set_script({"status": 200, "delay": 1})
        a = self.start(self.output(rx) + self.disk(), agent="shutdown_timeout = 20s\n")
        wait_for(lambda: rx.requests(), what="a request in flight")
        started = time.monotonic()
        a.signal(signal.SIGTERM)
        self.assertEqual(a.proc.wait(30), 0)
        # It waited for the reply (1 s), not for the whole shutdown_timeout.
        self.assertLess(time.monotonic() - started, 10)
        self.assertIn("stopped", a.stderr())
        # The batch was acknowledged: nothing is sent again at the next start.
        a.stop()
        sent = set(ids(rx.records()))
        a.start()
        rx.wait_record(lambda r: r["kind"] == "heartbeat" and r["id"] not in sent,
                       what="the second run's heartbeat")
        self.assertEqual(a.stop(), 0)
        self.assertEqual(len(ids(rx.records())), len(set(ids(rx.records()))))

    # --- replies: 5xx, 429, 4xx, 413, 3xx ---

    def test_500_is_retried_with_the_same_ids(self):
        rx = self.receiver()
        rx.set_script([{"status": 500}, {"status": 503}, {"status": 200}])
        a = self.start(self.output(rx) + self.disk())
        wait_for(lambda: [r for r in rx.requests() if r["status"] == 200], what="a 200")
        reqs = rx.requests()
        self.assertEqual([r["status"] for r in reqs[:3]], [500, 503, 200])
        refused = ids(reqs[0]["body"]["records"])
        self.assertEqual(ids(reqs[1]["body"]["records"])[:len(refused)], refused)
        self.assertEqual(ids(reqs[2]["body"]["records"])[:len(refused)], refused)
        self.assertEqual(a.stop(), 0)
        self.assertIn("HTTP 500", a.stderr())

    def test_429_retry_after_is_honoured(self):
        rx = self.receiver()
        rx.set_script([{"status": 429, "retry_after": "2"}, {"status": 200}])
        a = self.start(self.output(rx) + self.disk())
        wait_for(lambda: len(rx.requests()) >= 2, what="the retry")
        first, second = rx.requests()[:2]
        self.assertEqual(first["status"], 429)
        self.assertGreaterEqual(second["time"] - first["time"], 1.99)
        self.assertEqual(second["body"]["records"][0]["id"], first["body"]["records"][0]["id"])
        self.assertEqual(a.stop(), 0)

    def test_400_goes_to_dead_letters_and_raises_the_vigil_check(self):
        rx = self.receiver()
        rx.set_script([{"status": 400, "body": "poisoned batch"}, {"status": 200}])
        a = self.start(self.output(rx, name="main") + self.disk())
        dead_dir = self.w.file("agent-state/dead/main")
        # Written as a temporary file, then renamed: wait for the finished one.
        files = wait_for(lambda: os.path.isdir(dead_dir) and [
            f for f in os.listdir(dead_dir) if f.endswith(".json")], 20, "a dead letter")
        self.assertEqual(len(files), 1)
        refused = rx.requests()[0]
        self.assertEqual(refused["status"], 400)
        first_id = refused["body"]["records"][0]["id"]
        self.assertRegex(files[0], r"^\d{8}T\d{6}\.\d{3}Z-%s\.json$" % re.escape(first_id))
        with open(os.path.join(dead_dir, files[0])) as f:
            letter = json.load(f)
        self.assertEqual(letter["status"], 400)
        self.assertEqual(letter["reply"], "poisoned batch")
        self.assertEqual(letter["records"], refused["body"]["records"])

        # Later records go through, and the loss is announced by the vigil check.
        dead = set(ids(letter["records"]))
        rx.wait_record(lambda r: r["kind"] == "heartbeat" and r["id"] not in dead,
                       what="a later heartbeat delivered")
        ev = rx.wait_record(lambda r: r["kind"] == "event" and r["check"] == "vigil"
                            and r["state"] == "warning", 30, "the vigil check's warning")
        self.assertEqual((ev["plugin"], ev["state"], ev["metric"]),
                         ("vigil", "warning", "dead_lettered"))
        self.assertEqual(ev["value"], len(letter["records"]))
        self.assertIn("main", ev["message"])
        inc = rx.wait_record(lambda r: r["kind"] == "incident" and r["check"] == "vigil",
                             what="the vigil incident")
        self.assertEqual((inc["action"], inc["severity"]), ("open", "warning"))
        hb = rx.wait_record(lambda r: r["kind"] == "heartbeat" and r["dead_lettered"] > 0,
                            what="a heartbeat counting the loss")
        self.assertEqual(hb["dead_lettered"], len(letter["records"]))
        out = self.output_status(a, "main")
        self.assertEqual(out["dead_lettered"], len(letter["records"]))
        self.assertEqual(a.stop(), 0)
        self.assertIn("dead letters", a.stderr())

    def test_413_splits_the_batch_and_sends_the_first_half_first(self):
        rx = self.receiver()
        rx.set_script([{"status": 413}, {"status": 200}])
        checks = "".join(self.disk("d%d" % i) for i in range(4))
        a = self.start(self.output(rx) + checks)
        wait_for(lambda: len(rx.requests()) >= 3, what="three requests")
        reqs = rx.requests()
        whole = ids(reqs[0]["body"]["records"])
        self.assertEqual(reqs[0]["status"], 413)
        self.assertGreaterEqual(len(whole), 4)
        half = len(whole) // 2
        self.assertEqual(ids(reqs[1]["body"]["records"]), whole[:half])
        self.assertEqual(reqs[1]["status"], 200)
        self.assertEqual(ids(reqs[2]["body"]["records"])[:len(whole) - half], whole[half:])
        self.assertFalse(os.path.exists(self.w.file("agent-state/dead/default")))
        self.assertEqual(a.stop(), 0)

    def test_a_redirect_is_not_followed_but_retried(self):
        rx = self.receiver()
        elsewhere = rx.url("/elsewhere")
        rx.set_script([{"status": 302, "headers": {"Location": elsewhere}},
                       {"status": 307, "headers": {"Location": elsewhere}}, {"status": 200}])
        a = self.start(self.output(rx) + self.disk())
        wait_for(lambda: [r for r in rx.requests() if r["status"] == 200], what="a 200")
        reqs = rx.requests()
        self.assertEqual([r["path"] for r in reqs], ["/ingest"] * len(reqs))
        self.assertEqual([r["status"] for r in reqs[:3]], [302, 307, 200])
        first = reqs[0]["body"]["records"][0]["id"]
        self.assertEqual(reqs[2]["body"]["records"][0]["id"], first)
        wait_for(lambda: elsewhere in a.stderr(), 10, "the Location in the log")
        self.assertEqual(a.stop(), 0)

    # --- TLS failures, fixed by a reload ---

    def tls_failure_then_fix(self, rx, bad_output, good_output, expect):
        a = self.start(bad_output + self.disk())
        out = wait_for(lambda: (lambda o: o if o["last_error"] else None)(self.output_status(a)),
                       20, "a delivery error in /status")
        self.assertRegex(out["last_error"], expect)
        wait_for(lambda: "delivery failed" in a.stderr(), 10, "the error in the log")
        self.assertRegex(a.stderr(), expect)
        wait_for(lambda: self.output_status(a)["spool_records"] >= 3, 20, "records spooled")
        self.assertEqual(rx.requests(), [])  # the handshake failed: not a byte of HTTP

        self.config(good_output + self.disk())
        a.signal(signal.SIGHUP)
        return a

    def check_spool_delivered(self, a, rx):
        # The first event (made at start, before the fix) arrives, then the spool empties.
        rx.wait_record(lambda r: r["kind"] == "event" and r["previous_state"] is None,
                       what="the spooled event")
        beats = [r["uptime_seconds"] for r in kinds(first_seen(rx.records()), "heartbeat")]
        self.assertLess(beats[0], 1.0)
        wait_for(lambda: self.output_status(a)["spool_records"] == 0, 20, "an empty spool")
        self.assertEqual(a.stop(), 0)

    def test_wrong_ca_is_refused_until_the_config_is_fixed(self):
        rx = self.receiver()
        bad = self.output(rx).replace(self.cert("ca.crt"), self.cert("other-ca.crt"))
        a = self.tls_failure_then_fix(rx, bad, self.output(rx), r"(?i)certificate|SSL")
        self.check_spool_delivered(a, rx)

    def test_host_name_mismatch_is_refused_until_the_config_is_fixed(self):
        wrong = self.receiver("wrong", cert="wrong")
        right = self.receiver("right")
        a = self.tls_failure_then_fix(wrong, self.output(wrong), self.output(right),
                                      r"(?i)name|certificate|SSL")
        self.check_spool_delivered(a, right)
        self.assertEqual(wrong.requests(), [])

    # --- outputs are independent and filtered ---

    def test_a_dead_endpoint_does_not_hold_up_another(self):
        rx = self.receiver()
        dead = "[output dead]\nurl = https://localhost:%d/x\nca_file = %s\n" % (
            free_port(), self.cert("ca.crt"))
        a = self.start(dead + self.output(rx, "alive") + self.disk(),
                       agent="shutdown_timeout = 1s\n")  # the dead one never drains
        rx.wait_record(lambda r: r["kind"] == "incident", 10, "the incident, promptly")
        rx.wait_record(lambda r: r["kind"] == "heartbeat" and r["uptime_seconds"] >= 3, 15,
                       "heartbeats keep flowing")
        d = self.output_status(a, "dead")
        self.assertGreater(d["failed"], 0)
        self.assertGreater(d["spool_records"], 0)
        self.assertTrue(d["last_error"])
        self.assertEqual(a.stop(), 0)

    def test_send_and_min_severity_filter_what_an_output_gets(self):
        rx = self.receiver()
        self.w.write("warn.sh", "echo 'WARNING - slow'\nexit 1\n")
        body = (self.output(rx, "beats", "/beats", "send = heartbeat\n")
                + self.output(rx, "crit", "/crit", "min_severity = critical\n")
                + self.output(rx, "all", "/all")
                + self.disk() + "[exec slow]\ncommand = /bin/sh %s\n" % self.w.file("warn.sh"))
        a = self.start(body)

        def at(path):
            out = []
            for req in rx.requests():
                if req["path"] == path and req["status"] == 200:
                    out.extend(req["body"]["records"])
            return out

        warn_inc = wait_for(lambda: [r for r in at("/all") if r["kind"] == "incident"
                                     and r["severity"] == "warning"], what="the warning incident")
        # Records reach an output in order: a heartbeat made after the warning incident
        # arriving at /crit means the incident would have come before it.
        later = warn_inc[0]["id"]
        wait_for(lambda: [r for r in at("/crit") if r["kind"] == "heartbeat" and r["id"] > later],
                 what="a later heartbeat at /crit")
        wait_for(lambda: [r for r in at("/beats") if r["kind"] == "heartbeat" and r["id"] > later],
                 what="a later heartbeat at /beats")
        self.assertEqual(a.stop(), 0)

        crit = at("/crit")
        self.assertEqual([(r["check"], r["severity"]) for r in kinds(crit, "incident")],
                         [("scratch", "critical")])
        self.assertEqual(sorted((e["check"], e["state"]) for e in kinds(crit, "event")),
                         [("scratch", "critical"), ("slow", "warning"), ("vigil", "ok")])
        self.assertEqual({r["kind"] for r in at("/beats")}, {"heartbeat"})
        self.assertEqual(sorted(r["check"] for r in kinds(at("/all"), "incident")),
                         ["scratch", "slow"])

    def test_proxy_environment_is_ignored_without_proxy_key(self):
        closed = "http://127.0.0.1:%d" % free_port()
        env = {k: closed for k in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY",
                                   "all_proxy", "ALL_PROXY")}
        env.update({"no_proxy": "", "NO_PROXY": ""})
        rx = self.receiver()
        a = self.start(self.output(rx) + self.disk(), env=env)
        rx.wait_record(lambda r: r["kind"] == "incident", what="delivery despite https_proxy")
        self.assertEqual(a.stop(), 0)


if __name__ == "__main__":
    harness.main()
