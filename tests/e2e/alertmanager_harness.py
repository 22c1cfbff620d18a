"""A real Alertmanager (the Debian package's prometheus-alertmanager) as a child
process of a test, on loopback, without clustering unless asked (the fleet bench
runs three as a cluster); and a webhook receiver that records the notifications
Alertmanager sends it."""

import datetime
import http.server
import itertools
import json
import os
import shutil
import subprocess
import threading
import urllib.error
import urllib.request

from harness import wait_for
from receiver_harness import free_port

ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
INSTALLED = os.access(ALERTMANAGER, os.X_OK)
NOT_INSTALLED = ("prometheus-alertmanager is not installed "
                 "(apt-get install prometheus-alertmanager)")


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


class Alertmanager:
    """prometheus-alertmanager with `config` (YAML text), its data and log in `workdir`.

    `name` tells several apart in one workdir (their config, data and log files);
    `cluster` is None (no clustering) or (listen port, [peer "host:port", ...]).
    After a first start(), start() again (after stop()) keeps the web port."""

    def __init__(self, workdir, config, name="alertmanager", cluster=None):
        self.workdir = workdir
        self.name = name
        self.config = workdir.write(name + ".yml", config)
        self.cluster = cluster
        self.proc = None
        self.log = None
        self.base = None
        self.port = None

    def start(self):
        self.log = open(self.workdir.file(self.name + ".log"), "a")
        data = self.workdir.file("am-data" if self.name == "alertmanager" else self.name + "-data")
        if self.cluster is None:
            cluster = ["--cluster.listen-address="]
        else:
            cluster = ["--cluster.listen-address=127.0.0.1:%d" % self.cluster[0]]
            cluster += ["--cluster.peer=" + p for p in self.cluster[1]]
        # Alertmanager cannot report the port it bound, so pick one first and try
        # again with another if it was taken meanwhile.
        for _ in range(5):
            port = self.port or free_port()
            self.base = "http://127.0.0.1:%d" % port
            self.proc = subprocess.Popen(
                [ALERTMANAGER, "--config.file=" + self.config,
                 "--storage.path=" + data,
                 "--web.listen-address=127.0.0.1:%d" % port] + cluster,
                stdout=self.log, stderr=subprocess.STDOUT)

            def ready():
                if self.proc.poll() is not None:
                    return "exited"
                return "ready" if get(self.base + "/-/ready")[0] == 200 else None

            if wait_for(ready, timeout=30, what="Alertmanager's /-/ready") == "ready":
                self.port = port
                return self
            self.proc.wait()  # the port was taken meanwhile: another one
        raise AssertionError("Alertmanager did not start; its log:\n" +
                             open(self.log.name).read())

    def alerts_url(self):
        return self.base + "/api/v2/alerts"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.log:
            self.log.close()


class Webhook:
    """An HTTP server on loopback that keeps every JSON body POSTed to it, and the
    path each came to (several Alertmanagers may be given several paths)."""

    def __init__(self):
        self.bodies = []
        self.paths = []
        self.lock = threading.Lock()
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with hook.lock:
                    hook.bodies.append(json.loads(body))
                    hook.paths.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self):
        return "http://127.0.0.1:%d/" % self.server.server_address[1]

    def notifications(self):
        with self.lock:
            return list(self.bodies)

    def notifications_by_path(self):
        """[(path, body)] in the order they came."""
        with self.lock:
            return list(zip(self.paths, self.bodies))

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
