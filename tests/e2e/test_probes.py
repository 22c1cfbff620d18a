"""The http and tcp probe plugins against a real local HTTPS server, end to end.

One agent runs every probe check at a 1 s interval (and a cpu check beside
them); the test changes the server and waits for what the agent prints on
stdout and shows on /status. The server's certificate is valid for 20 days.
"""

import datetime
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import harness
from harness import Agent, events, incidents, run_cli, wait_for
from receiver_harness import free_port, make_certs

CERT_DAYS = 20


def make_leaf(certs, name, days):
    """A server certificate for localhost and 127.0.0.1, signed by the test CA."""
    key, csr, crt, ext = (os.path.join(certs, name + s) for s in (".key", ".csr", ".crt", ".ext"))
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr,
                    "-subj", "/CN=localhost"], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(certs, "ca.crt"),
                    "-CAkey", os.path.join(certs, "ca.key"), "-CAcreateserial", "-out", crt,
                    "-days", str(days), "-extfile", ext], check=True, capture_output=True)
    return crt, key


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002
        pass

    def do_GET(self):  # noqa: N802
        status = 200
        if self.path == "/down":
            status = self.server.down_status
        elif self.path == "/slow":
            time.sleep(3)
        body = b"hello\n"
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, context=None):
        self.context = context
        self.down_status = 503
        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def finish_request(self, request, client_address):
        if self.context is not None:
            try:
                request = self.context.wrap_socket(request, server_side=True)
            except (OSError, ValueError):
                return  # a probe that rejected our certificate
        try:
            Handler(request, client_address, self)
        finally:
            if self.context is not None:
                try:
                    request.close()
                except OSError:
                    pass

    def handle_error(self, request, client_address):
        pass

    def stop(self):
        self.shutdown()
        self.server_close()


def rfc3339(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Probes(harness.AgentTestCase):
    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="vigil-e2e-probes-")
        make_certs(cls.certs)
        crt, key = make_leaf(cls.certs, "leaf20", CERT_DAYS)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(crt, key)
        cls.https = Server(context)

    @classmethod
    def tearDownClass(cls):
        cls.https.stop()
        shutil.rmtree(cls.certs, ignore_errors=True)

    def cert(self, name):
        return os.path.join(self.certs, name)

    def status(self):
        with urllib.request.urlopen("http://%s/status" % self.status_address, timeout=5) as r:
            return json.loads(r.read())

    def check_status(self, name):
        for c in self.status()["checks"]:
            if c["name"] == name:
                return c
        raise AssertionError("no check " + name)

    def wait_metrics(self, name, predicate, what):
        def ready():
            c = self.check_status(name)
            return c if c["last_run"] and predicate(c["metrics"]) else None
        return wait_for(ready, 15, what)

    def event(self, a, check, state):
        return a.wait_record(lambda r: r["kind"] == "event" and r["check"] == check
                             and r["state"] == state, 15, "%s going %s" % (check, state))

    def test_probes_in_one_agent(self):
        plain = Server()
        self.addCleanup(lambda: plain.server_close())
        url = "https://localhost:%d" % self.https.port
        ca, other = self.cert("ca.crt"), self.cert("other-ca.crt")
        self.status_address = "127.0.0.1:%d" % free_port()
        config = self.w.write("agent.ini", f"""[agent]
state_dir = {self.w.file("state")}
interval = 1s
heartbeat = 0
status_listen = {self.status_address}

[http good]
url = {url}/
ca_file = {ca}
warning = cert_expiry_days < 30
critical = up == 0

[http down]
url = {url}/down
ca_file = {ca}

[http stopped]
url = http://127.0.0.1:{plain.port}/

[http wrong_ca]
url = {url}/
ca_file = {other}

[http no_verify]
url = {url}/
ca_file = {other}
tls_verify = false

[http slow]
url = {url}/slow
ca_file = {ca}
timeout = 1s

[cpu]

[tcp closed]
address = 127.0.0.1:{free_port()}

[tcp tls]
address = localhost:{self.https.port}
tls = true
ca_file = {ca}
""")
        a = Agent(self.w, config).start()
        self.agents.append(a)

        with self.subTest("cert_expiry_days is 20 and warning = cert_expiry_days < 30 fires"):
            e = self.event(a, "good", "warning")
            self.assertEqual(e["metric"], "cert_expiry_days")
            self.assertAlmostEqual(e["value"], CERT_DAYS, delta=0.1)

        with self.subTest("/down answers 503: up 0, status_code 503, critical"):
            e = self.event(a, "down", "critical")
            self.assertEqual((e["metric"], e["value"], e["rule"]), ("up", 0, "up == 0"))
            self.assertEqual(e["message"], "HTTP/1.1 503 Service Unavailable")
            m = self.wait_metrics("down", lambda m: m.get("status_code") == 503, "status 503")
            self.assertEqual(m["metrics"]["up"], 0)

        with self.subTest("wrong CA: up 0 with the TLS error in the message"):
            e = self.event(a, "wrong_ca", "critical")
            self.assertIn("SSL certificate problem", e["message"])
            c = self.check_status("wrong_ca")
            self.assertEqual(c["metrics"]["up"], 0)
            self.assertIsNone(c["error"])  # a reading, not a failed collection

        with self.subTest("tls_verify = false: up 1, and cert_expiry_days all the same"):
            c = self.wait_metrics("no_verify", lambda m: "cert_expiry_days" in m, "no_verify")
            self.assertEqual(c["metrics"]["up"], 1)
            self.assertAlmostEqual(c["metrics"]["cert_expiry_days"], CERT_DAYS, delta=0.1)

        with self.subTest("tcp on a closed port: up 0"):
            self.event(a, "closed", "critical")
            self.assertEqual(self.check_status("closed")["metrics"]["up"], 0)

        with self.subTest("tcp with tls = true reports cert_expiry_days"):
            c = self.wait_metrics("tls", lambda m: "cert_expiry_days" in m, "tcp tls")
            self.assertEqual(c["metrics"]["up"], 1)
            self.assertAlmostEqual(c["metrics"]["cert_expiry_days"], CERT_DAYS, delta=0.1)

        with self.subTest("server stopped: up 0 with Connection refused"):
            self.event(a, "stopped", "ok")
            plain.stop()
            e = self.event(a, "stopped", "critical")
            self.assertIn("Connection refused", e["message"])

        with self.subTest("the server sleeps 3 s, timeout = 1s: up 0 after about 1 s, and the "
                          "cpu check at 1 s misses no evaluation meanwhile"):
            self.event(a, "slow", "critical")
            c = self.check_status("slow")
            self.assertEqual(c["metrics"]["up"], 0)
            self.assertGreater(c["metrics"]["duration_seconds"], 0.8)
            self.assertLess(c["metrics"]["duration_seconds"], 1.0)
            # Over three slow probes, /status answers at once and cpu runs every second.
            runs, slowest, end = set(), 0.0, time.monotonic() + 3.2
            while time.monotonic() < end:
                t0 = time.monotonic()
                runs.add(rfc3339(self.check_status("cpu")["last_run"]))
                slowest = max(slowest, time.monotonic() - t0)
                time.sleep(0.05)
            runs = sorted(runs)
            self.assertGreaterEqual(len(runs), 3, runs)
            gaps = [b - a for a, b in zip(runs, runs[1:])]
            self.assertLess(max(gaps), 1.2, gaps)
            self.assertLess(slowest, 0.5)

        with self.subTest("back to 200: resolved"):
            self.https.down_status = 200
            self.event(a, "down", "ok")
            a.wait_record(lambda r: r["kind"] == "incident" and r["check"] == "down"
                          and r["action"] == "resolve", 15, "the down incident resolving")

        exporter = shutil.which("prometheus-blackbox-exporter")
        with self.subTest("the blackbox exporter gives the same day count"):
            if exporter is None:
                self.skipTest("prometheus-blackbox-exporter is not installed")
            self.blackbox_agrees(exporter, url, ca)

        self.assertEqual(a.stop(), 0)

    def blackbox_agrees(self, exporter, url, ca):
        listen = "127.0.0.1:%d" % free_port()
        cfg = self.w.write("blackbox.yml", "modules:\n  https_ca:\n    prober: http\n"
                           "    timeout: 5s\n    http:\n      tls_config:\n"
                           "        ca_file: %s\n" % ca)
        with open(self.w.file("blackbox.log"), "w") as log:
            p = subprocess.Popen([exporter, "--config.file", cfg, "--web.listen-address", listen],
                                 stdout=log, stderr=log)
        self.addCleanup(lambda: (p.kill(), p.wait()))
        probe = "http://%s/probe?module=https_ca&target=%s/" % (listen, url)

        def scrape():
            try:
                with urllib.request.urlopen(probe, timeout=5) as r:
                    return r.read().decode()
            except OSError:
                return None
        text = wait_for(scrape, 15, "the blackbox exporter")
        values = dict(line.split(" ", 1) for line in text.splitlines()
                      if line and not line.startswith("#"))
        self.assertEqual(float(values["probe_success"]), 1, text)
        theirs = (float(values["probe_ssl_earliest_cert_expiry"]) - time.time()) / 86400
        ours = self.check_status("good")["metrics"]["cert_expiry_days"]
        self.assertAlmostEqual(ours, theirs, delta=0.1)

    def test_check_config_rejects_bad_url_expect_status_and_address(self):
        path = self.w.write("bad.ini", """[http a]
url = ftp://example.com/

[http b]
url = https://example.com/
expect_status = 200-abc

[tcp c]
address = db.example.com
""")
        r = run_cli(["check-config", "-c", path])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        out = r.stdout + r.stderr
        self.assertIn("%s:2: url: must start with http:// or https://" % path, out)
        self.assertIn("%s:6: expect_status: '200-abc' is not a status code" % path, out)
        self.assertIn("%s:9: address: 'db.example.com' has no port (HOST:PORT)" % path, out)


if __name__ == "__main__":
    harness.main()
