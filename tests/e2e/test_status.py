"""The status server (/health, /status, /metrics) and `vigil status`, end to end."""

import json
import os
import re
import socket
import threading
import time
import unittest

import harness
from harness import Agent, Workdir, run_cli, wait_for
from receiver_harness import free_port
from status_client import get_json, http_get, parse_metrics, series, try_get

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

CHECK_KEYS = ["name", "plugin", "state", "since", "metrics", "error", "last_run"]
# The documented keys; memory_records and storage_error report a full disk.
OUTPUT_KEYS = ["name", "url", "format", "spool_records", "spool_bytes", "spool_lane_bytes",
               "memory_records", "sent", "failed", "dropped", "dropped_by_kind", "dead_lettered",
               "last_error", "storage_error", "last_success"]
LOSS_KEYS = ["dropped", "corrupt_frames", "dead_lettered", "log_bytes_skipped"]
INCIDENT_KEYS = ["kind", "id", "time", "host", "tags", "incident_id", "key", "action", "status",
                 "severity", "opened_at", "resolved_at", "occurrences", "escalation_level",
                 "flapping", "check", "summary", "runbook", "event_id", "problem_id",
                 "problem_role", "silenced", "silence_ids", "acknowledged_at",
                 "acknowledged_by", "ack_comment"]
PROBLEM_KEYS = ["kind", "id", "time", "host", "tags", "problem_id", "key", "action", "cause",
                "incident_count", "incident_ids", "suspected_incident_id", "suspected_check",
                "first_seen", "last_seen", "summary"]

FAMILIES = {
    "vigil_metric": ("gauge", {"check", "plugin", "metric"}),
    "vigil_check_state": ("gauge", {"check", "plugin", "state"}),
    "vigil_incidents_open": ("gauge", set()),
    "vigil_problems_open": ("gauge", set()),
    "vigil_output_records_sent_total": ("counter", {"output"}),
    "vigil_output_requests_failed_total": ("counter", {"output"}),
    "vigil_output_records_dropped_total": ("counter", {"output", "kind"}),
    "vigil_output_records_dead_lettered_total": ("counter", {"output"}),
    "vigil_output_spool_records": ("gauge", {"output"}),
    "vigil_output_spool_bytes": ("gauge", {"output"}),
    "vigil_output_memory_records": ("gauge", {"output"}),
    "vigil_spool_corrupt_frames_total": ("counter", {"output"}),
    "vigil_log_skipped_bytes_total": ("counter", {"check"}),
    "vigil_uptime_seconds": ("gauge", set()),
    "vigil_build_info": ("gauge", {"version"}),
}
OUTPUT_FAMILIES = [f for f, (_, labels) in FAMILIES.items() if labels == {"output"}]


class Status(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()
        self.agents = []
        self.threads_stop = threading.Event()
        self.sockets = []

    def tearDown(self):
        self.threads_stop.set()
        for s in self.sockets:
            s.close()
        for a in self.agents:
            if a.proc and a.proc.poll() is None:
                a.kill9()
        self.w.cleanup()

    def write_config(self, body, name="agent"):
        return self.w.write(name + ".ini", "[agent]\nstate_dir = %s\n%s\n" % (
            self.w.file(name + "-state"), body))

    def start(self, body, env=None, name="agent", binary=None):
        a = Agent(self.w, self.write_config(body, name), env=env, name=name,
                  binary=binary).start()
        self.agents.append(a)
        return a

    def sock_address(self, name="agent"):
        return "unix:" + self.w.file(name + "-state/vigil.sock")

    def wait_health(self, address, agent):
        def healthy():
            self.assertFalse(agent.exited(), "the agent exited: " + agent.stderr())
            r = try_get(address, "/health")
            return r is not None and r[0] == 200
        wait_for(healthy, 30, "/health to answer 200")

    def failing_script(self):
        return self.w.write("down.sh", "#!/bin/sh\necho 'service is down'\nexit 2\n", 0o755)

    def assert_time_or_null(self, value, what):
        if value is not None:
            self.assertRegex(value, RFC3339, what)

    # --- /status -------------------------------------------------------------------

    def test_status_over_the_default_unix_socket_has_the_documented_shape(self):
        a = self.start(
            "hostname = statushost\ninterval = 300ms\nheartbeat = 0\n"
            "[incidents]\nproblem_count = 1\n"
            "[disk x]\npath = %s\nwarning = used_percent > 1000\n"
            "[exec down]\ncommand = %s\n"
            "[output]\nurl = file:%s\n" % (self.w.path, self.failing_script(),
                                            self.w.file("records.jsonl")))
        address = self.sock_address()
        self.wait_health(address, a)

        def ready():
            s = get_json(address)
            checks = {c["name"]: c for c in s["checks"]}
            if (checks.get("x", {}).get("state") == "ok"
                    and checks.get("down", {}).get("state") == "critical"
                    and checks.get("vigil", {}).get("state") == "ok"
                    and s["incidents"] and s["problems"]):
                return s
            return None
        s = wait_for(ready, 30, "/status with states, an incident and a problem")

        self.assertEqual(list(s), ["agent", "checks", "incidents", "problems", "outputs", "loss"])
        self.assertEqual(list(s["agent"]), ["host", "version", "instance", "uptime_seconds"])
        self.assertEqual(s["agent"]["host"], "statushost")
        version = run_cli(["--version"]).stdout
        self.assertIn(s["agent"]["version"], version)
        self.assertRegex(s["agent"]["instance"], r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-")
        self.assertIsInstance(s["agent"]["uptime_seconds"], (int, float))
        self.assertGreaterEqual(s["agent"]["uptime_seconds"], 0)

        self.assertEqual([c["name"] for c in s["checks"]], ["x", "down", "vigil"])
        for c in s["checks"]:
            self.assertEqual(list(c), CHECK_KEYS, c)
            self.assertIsInstance(c["metrics"], dict)
            for v in c["metrics"].values():
                self.assertIsInstance(v, (int, float))
            self.assert_time_or_null(c["since"], "since")
            self.assert_time_or_null(c["last_run"], "last_run")
            self.assertIsNotNone(c["last_run"], c)
            self.assertIsNotNone(c["since"], c)
        checks = {c["name"]: c for c in s["checks"]}
        self.assertEqual(checks["x"]["plugin"], "disk")
        self.assertEqual(set(checks["x"]["metrics"]),
                         {"used_percent", "free_bytes", "inodes_used_percent", "readonly"})
        self.assertIsNone(checks["x"]["error"])
        self.assertEqual(checks["down"]["plugin"], "exec")
        self.assertEqual(checks["down"]["metrics"]["status"], 2)
        self.assertEqual(checks["vigil"]["plugin"], "vigil")
        # The loss counters, and the records not yet durable (held in memory).
        self.assertEqual(set(checks["vigil"]["metrics"]), set(LOSS_KEYS + ["records_in_memory"]))

        self.assertEqual(len(s["incidents"]), 1)
        inc = s["incidents"][0]
        self.assertEqual(list(inc), INCIDENT_KEYS)
        self.assertEqual(inc["kind"], "incident")
        self.assertEqual(inc["key"], "statushost/down")
        self.assertEqual(inc["status"], "open")
        self.assertEqual(inc["severity"], "critical")
        self.assertIsNone(inc["resolved_at"])
        self.assertRegex(inc["opened_at"], RFC3339)
        self.assertEqual(len(s["problems"]), 1)
        prob = s["problems"][0]
        self.assertEqual(list(prob), PROBLEM_KEYS)
        self.assertEqual(prob["key"], "statushost/down")
        self.assertEqual(prob["cause"], "recurrence")
        self.assertIsNone(prob["suspected_check"])
        self.assertEqual(prob["incident_ids"], [inc["incident_id"]])

        self.assertEqual(len(s["outputs"]), 1)
        out = s["outputs"][0]
        self.assertEqual(list(out), OUTPUT_KEYS)
        self.assertEqual(out["name"], "default")
        self.assertEqual(out["format"], "vigil")
        self.assertEqual(out["url"], "file:" + self.w.file("records.jsonl"))
        for k in ("spool_records", "spool_bytes", "sent", "failed", "dropped", "dead_lettered"):
            self.assertIsInstance(out[k], int, k)
        self.assertEqual(list(s["loss"]), LOSS_KEYS)
        self.assertEqual(s["loss"], {k: 0 for k in LOSS_KEYS})

        # The file output delivered the incident: sent and last_success follow.
        def delivered():
            o = get_json(address)["outputs"][0]
            return o if o["sent"] > 0 and o["last_success"] is not None else None
        o = wait_for(delivered, 30, "the output to count records sent")
        self.assertRegex(o["last_success"], RFC3339)
        self.assertIsNone(o["last_error"])
        self.assertEqual(a.stop(), 0)
        self.assertFalse(os.path.exists(address[5:]), "the socket file is removed at exit")

    def test_tcp_listen_serves_health_status_metrics_and_404(self):
        port = free_port()
        address = "127.0.0.1:%d" % port
        a = self.start("interval = 1h\nheartbeat = 0\nstatus_listen = %s\n[load]\n" % address)
        self.wait_health(address, a)
        status, headers, body = http_get(address, "/health")
        self.assertEqual(status, 200)
        s = get_json(address)
        self.assertEqual([c["name"] for c in s["checks"]], ["load", "vigil"])
        status, headers, body = http_get(address, "/metrics")
        self.assertEqual(status, 200)
        self.assertIn("version=0.0.4", headers["content-type"])
        self.assertIn("vigil_build_info", body)
        self.assertEqual(http_get(address, "/nothing-here")[0], 404)
        # HEAD gets the head only.
        status, headers, body = http_get(address, "", raw_request=(
            b"HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n"))
        self.assertEqual(status, 200)
        self.assertEqual(body, "")
        # Not a unix socket then.
        self.assertFalse(os.path.exists(self.w.file("agent-state/vigil.sock")))
        self.assertEqual(a.stop(), 0)

    def test_no_token_header_value_or_url_credential_ever_appears(self):
        port = free_port()
        address = "127.0.0.1:%d" % port
        a = self.start(
            "interval = 300ms\nheartbeat = 200ms\nstatus_listen = %s\n[load]\n"
            "[output vault]\nurl = https://user:secret@127.0.0.1:1/x?q=1\ntoken = TOPSECRET\n"
            "header = X-Key: HEADERSECRET\nretry_max = 200ms\n" % address)
        self.wait_health(address, a)

        def failed_once():
            o = get_json(address)["outputs"][0]
            return o if o["failed"] > 0 and o["last_error"] else None
        out = wait_for(failed_once, 30, "a failed delivery with its last_error")
        self.assertEqual(out["name"], "vault")
        self.assertEqual(out["url"], "https://127.0.0.1:1/x?q=1")
        self.assertGreater(out["spool_records"], 0)
        texts = [http_get(address, p)[2] for p in ("/status", "/metrics", "/health")]
        for text in texts + [a.stderr()]:
            for secret in ("secret", "TOPSECRET", "HEADERSECRET", "user:"):
                self.assertNotIn(secret, text)
        self.assertEqual(a.stop(), 0)
        for secret in ("TOPSECRET", "HEADERSECRET", "user:secret"):
            self.assertNotIn(secret, a.stderr())

    # --- /metrics ------------------------------------------------------------------

    def test_metrics_parse_back_and_agree_with_status(self):
        fifo = self.w.file("hang.fifo")
        os.mkfifo(fifo)
        a = self.start(
            "interval = 300ms\nheartbeat = 0\n"
            "[disk x]\npath = %s\ninterval = 1h\ncritical = used_percent >= 0\n"
            "[testblock stuck]\nfifo = %s\ninterval = 1h\ntimeout = 1h\n"
            "[log app]\npath = %s\nmatch = ERROR\n"
            "[output quiet]\nurl = file:%s\nsend = problem\n"
            % (self.w.path, fifo, self.w.file("app.log"), self.w.file("quiet.jsonl")),
            binary=harness.VIGIL_TEST)
        address = self.sock_address()
        self.wait_health(address, a)

        # Right from the start, before anything happened, every series of the
        # output and every metric of every check is there with 0.
        fam = parse_metrics(http_get(address, "/metrics")[2])
        for f in OUTPUT_FAMILIES:
            self.assertEqual(series(fam, f, output="quiet"), [0], f)
        self.assertEqual(series(fam, "vigil_metric", check="stuck", plugin="testblock",
                                metric="value"), [0])
        self.assertEqual(series(fam, "vigil_log_skipped_bytes_total", check="app"), [0])
        for st in ("ok", "warning", "critical", "unknown"):
            self.assertEqual(series(fam, "vigil_check_state", check="stuck", plugin="testblock",
                                    state=st), [0], st)

        def x_evaluated():
            s = get_json(address)
            states = {c["name"]: c["state"] for c in s["checks"]}
            return s if states["x"] == "critical" and states["vigil"] == "ok" else None
        s = wait_for(x_evaluated, 30, "check x critical, vigil ok")
        status_x = [c for c in s["checks"] if c["name"] == "x"][0]
        text = http_get(address, "/metrics")[2]
        fam = parse_metrics(text)
        for name, (typ, labels) in FAMILIES.items():
            self.assertIn(name, fam, name)
            self.assertEqual(fam[name]["type"], typ, name)
            self.assertTrue(fam[name]["help"].strip(), name)
            for l, _ in fam[name]["samples"]:
                self.assertEqual(set(l), labels, name)
        # vigil_check_state: 1 for the current state, 0 for the others.
        for st, want in (("ok", 0), ("warning", 0), ("critical", 1), ("unknown", 0)):
            self.assertEqual(series(fam, "vigil_check_state", check="x", plugin="disk",
                                    state=st), [want], st)
        self.assertEqual(series(fam, "vigil_check_state", check="vigil", plugin="vigil",
                                state="ok"), [1])
        # The check's interval is an hour: its one reading is the one /status showed.
        for metric, value in status_x["metrics"].items():
            self.assertEqual(series(fam, "vigil_metric", check="x", plugin="disk",
                                    metric=metric), [value], metric)
        self.assertEqual(
            {l["metric"] for l, _ in fam["vigil_metric"]["samples"] if l["check"] == "x"},
            {"used_percent", "free_bytes", "inodes_used_percent", "readonly"})
        self.assertEqual(series(fam, "vigil_incidents_open"), [len(s["incidents"])])
        self.assertEqual(series(fam, "vigil_incidents_open"), [1])
        self.assertEqual(series(fam, "vigil_problems_open"), [0])
        self.assertEqual(series(fam, "vigil_build_info"), [1])
        self.assertEqual(fam["vigil_build_info"]["samples"][0][0]["version"],
                         s["agent"]["version"])
        self.assertGreater(series(fam, "vigil_uptime_seconds")[0], 0)
        for f in ("vigil_output_records_dead_lettered_total",
                  "vigil_spool_corrupt_frames_total", "vigil_output_requests_failed_total"):
            self.assertEqual(series(fam, f, output="quiet"), [0], f)
        self.assertEqual(series(fam, "vigil_output_records_dropped_total", output="quiet"),
                         [0] * 5)
        # One series per label set: nothing written twice.
        for name, f in fam.items():
            keys = [tuple(sorted(l.items())) for l, _ in f["samples"]]
            self.assertEqual(len(keys), len(set(keys)), name)
        with open(fifo, "w") as f:  # release the stuck collector
            f.write("x\n")
        self.assertEqual(a.stop(), 0)

    def test_exec_perfdata_metrics_appear_in_metrics(self):
        script = self.w.write("perf.sh", "#!/bin/sh\necho 'fine | a.b=1.5 \"q\"=2 big=1e300'\n",
                              0o755)
        a = self.start("interval = 300ms\nheartbeat = 0\n[exec perf]\ncommand = %s\n" % script)
        address = self.sock_address()
        self.wait_health(address, a)

        def read():
            fam = parse_metrics(http_get(address, "/metrics")[2])
            got = {l["metric"]: v for l, v in fam["vigil_metric"]["samples"]
                   if l["check"] == "perf"}
            return got if "a.b" in got else None
        got = wait_for(read, 30, "the perfdata metrics")
        self.assertEqual(got["a.b"], 1.5)
        self.assertEqual(got["big"], 1e300)
        self.assertEqual(got["_q_"], 2)
        self.assertEqual(got["status"], 0)
        self.assertEqual(a.stop(), 0)

    # --- hostile clients -----------------------------------------------------------

    def test_slow_clients_do_not_stall_health(self):
        port = free_port()
        address = "127.0.0.1:%d" % port
        a = self.start("interval = 300ms\nheartbeat = 0\nstatus_listen = %s\n[load]\n" % address)
        self.wait_health(address, a)
        # One client connects and sends nothing; another sends an endless header.
        silent = socket.create_connection(("127.0.0.1", port))
        self.sockets.append(silent)
        dribbler = socket.create_connection(("127.0.0.1", port))
        self.sockets.append(dribbler)
        dribbler.sendall(b"GET /status HTTP/1.1\r\n")

        def dribble():
            try:
                while not self.threads_stop.is_set():
                    dribbler.sendall(b"X-Slow: y\r\n")
                    self.threads_stop.wait(0.05)
            except OSError:
                pass  # the server closed it: fine
        t = threading.Thread(target=dribble, daemon=True)
        t.start()
        for _ in range(10):
            started = time.monotonic()
            status, _, body = http_get(address, "/health", timeout=10)
            self.assertEqual(status, 200)
            self.assertLess(time.monotonic() - started, 5)
        # An unix socket client alike: /status still answers while both hang on.
        self.assertEqual(http_get(address, "/status")[0], 200)
        self.threads_stop.set()
        t.join()
        self.assertEqual(a.stop(), 0)

    def test_oversized_request_gets_an_error_and_the_connection_closes(self):
        a = self.start("interval = 300ms\nheartbeat = 0\n[load]\n")
        address = self.sock_address()
        self.wait_health(address, a)
        for request in (b"GET /status HTTP/1.1\r\nX-Big: " + b"a" * 20000,
                        b"GET /" + b"p" * 20000 + b" HTTP/1.1\r\n\r\n"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(20)
            s.connect(address[5:])
            try:
                s.sendall(request)
            except OSError:
                pass  # the server may close before it took everything
            data = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break  # closed by the server
                data += chunk
            s.close()
            status = int(data.split(b" ")[1])
            self.assertGreaterEqual(status, 400)
            self.assertLess(status, 500)
        self.assertEqual(http_get(address, "/health")[0], 200)
        self.assertEqual(a.stop(), 0)

    def test_many_idle_connections_do_not_lock_out_new_requests(self):
        port = free_port()
        address = "127.0.0.1:%d" % port
        a = self.start("interval = 300ms\nheartbeat = 0\nstatus_listen = %s\n[load]\n" % address)
        self.wait_health(address, a)
        for _ in range(70):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                self.sockets.append(s)
            except OSError:
                pass  # refused or reset once the server is full: that is the bound
        # The idle ones are held open by this test; new requests are answered
        # eventually all the same.
        wait_for(lambda: (try_get(address, "/health", timeout=3) or (0,))[0] == 200, 40,
                 "/health to answer despite 70 idle connections")
        self.assertFalse(a.exited())
        self.assertEqual(a.stop(), 0)

    # --- vigil status ----------------------------------------------------------------

    def test_status_json_prints_get_status_as_it_came(self):
        a = self.start("interval = 1h\nheartbeat = 0\n[disk x]\npath = %s\n" % self.w.path)
        address = self.sock_address()
        self.wait_health(address, a)
        wait_for(lambda: [c for c in get_json(address)["checks"] if c["name"] == "x"][0]["state"],
                 30, "check x evaluated")

        def same():
            raw = http_get(address, "/status")[2]
            r = run_cli(["status", "-c", a.config, "--json"])
            self.assertEqual(r.returncode, 0, r.stderr)
            got = json.loads(r.stdout)
            want = json.loads(raw)
            # Only the uptime moves between two requests.
            for j in (got, want):
                j["agent"].pop("uptime_seconds")
            return got == want
        wait_for(same, 30, "`vigil status --json` to print /status")
        self.assertEqual(a.stop(), 0)

    def test_status_table_lists_checks_incidents_problems_outputs(self):
        port = free_port()
        a = self.start(
            "hostname = tablehost\ninterval = 300ms\nheartbeat = 0\n"
            "status_listen = 127.0.0.1:%d\n[incidents]\nproblem_count = 1\n"
            "[disk x]\npath = %s\n[exec down]\ncommand = %s\n"
            "[output main]\nurl = file:%s\n"
            % (port, self.w.path, self.failing_script(), self.w.file("out.jsonl")))
        address = "127.0.0.1:%d" % port
        self.wait_health(address, a)
        wait_for(lambda: get_json(address)["problems"] and all(
            c["state"] for c in get_json(address)["checks"]), 30, "a problem, every state")
        r = run_cli(["status", "-c", a.config])
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "PLUGIN", "STATE", "SINCE", "VALUES"])
        rows = {}
        i = 1
        while lines[i].strip():
            words = lines[i].split()
            rows[words[0]] = words
            i += 1
        self.assertEqual(list(rows), ["x", "down", "vigil"])
        self.assertEqual(rows["x"][1:3], ["disk", "ok"])
        self.assertRegex(rows["x"][3], RFC3339)
        self.assertTrue(any(w.startswith("used_percent=") for w in rows["x"][4:]), rows["x"])
        self.assertEqual(rows["down"][1:3], ["exec", "critical"])
        self.assertIn("status=2", rows["down"])
        self.assertEqual(rows["vigil"][1:3], ["vigil", "ok"])
        rest = "\n".join(lines[i:])
        inc_at = rest.find("INCIDENTS")
        prob_at = rest.find("PROBLEMS")
        out_at = rest.find("OUTPUTS")
        self.assertTrue(0 <= inc_at < prob_at < out_at, rest)
        self.assertIn("tablehost/down", rest[inc_at:prob_at])
        self.assertIn("critical", rest[inc_at:prob_at])
        self.assertIn("tablehost/down", rest[prob_at:out_at])
        self.assertIn("main", rest[out_at:])
        self.assertIn("file:" + self.w.file("out.jsonl"), rest[out_at:])
        self.assertEqual(a.stop(), 0)

    def test_status_exits_1_with_one_line_when_the_agent_is_not_there(self):
        cfg = self.write_config("[load]\n")
        r = run_cli(["status", "-c", cfg])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        r = run_cli(["status", "-c", cfg, "--json"])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        # A stale socket file left by a dead agent: the same.
        a = self.start("interval = 1h\nheartbeat = 0\n[load]\n")
        self.wait_health(self.sock_address(), a)
        a.kill9()
        self.assertTrue(os.path.exists(self.sock_address()[5:]))
        r = run_cli(["status", "-c", a.config])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        # status_listen = off: the agent runs, status says there is nothing to ask.
        b = self.start("interval = 1h\nheartbeat = 0\nstatus_listen = off\n[load]\n", name="off")
        b.wait_record(lambda rec: rec["kind"] == "event" and rec["check"] == "load",
                      what="the agent running")
        r = run_cli(["status", "-c", b.config])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("off", r.stderr)
        self.assertFalse(os.path.exists(self.w.file("off-state/vigil.sock")))
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
