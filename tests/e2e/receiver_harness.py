"""A real HTTPS receiver (tests/support/receiver.py) as a child process of a test.

make_certs(dir) runs tests/support/make_certs.sh once; Receiver starts, stops and
restarts receiver.py on one port, reads its request log and rewrites its script.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

import harness
from harness import wait_for


def support(name):
    return os.path.join(harness.SOURCE, "tests", "support", name)


def make_certs(directory):
    """A test CA, a server cert for localhost, another CA, a cert for wrong.example."""
    subprocess.run(["sh", support("make_certs.sh"), directory], check=True,
                   capture_output=True, timeout=60)
    return directory


class WithCerts:
    """A test class mixin: make_certs once for the class, in cls.cert_dir."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cert_dir = tempfile.mkdtemp(prefix="vigil-e2e-certs-")
        make_certs(cls.cert_dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.cert_dir, ignore_errors=True)
        super().tearDownClass()


def free_port():
    """A TCP port nothing listens on now (for status_listen, or a dead endpoint)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """receiver.py over TLS: every request it got, as logged, and a script to answer."""

    def __init__(self, workdir, certs, name="rx", cert="server"):
        self.workdir = workdir
        self.certs = certs
        self.name = name
        self.cert = cert
        self.log_path = workdir.file(name + ".log")
        self.script_path = workdir.file(name + ".script.json")
        self.port = 0
        self.proc = None
        self.runs = 0

    def start(self):
        """Starts it on its earlier port (the first time: any free port)."""
        self.runs += 1
        port_file = self.workdir.file("%s.%d.port" % (self.name, self.runs))
        self._err = open(self.workdir.file("%s.%d.stderr" % (self.name, self.runs)), "w")
        self.proc = subprocess.Popen(
            [sys.executable, support("receiver.py"), "--port", str(self.port),
             "--log", self.log_path, "--port-file", port_file,
             "--tls-cert", os.path.join(self.certs, self.cert + ".crt"),
             "--tls-key", os.path.join(self.certs, self.cert + ".key"),
             "--script", self.script_path, "--parent", str(os.getpid())],
            stdout=subprocess.DEVNULL, stderr=self._err)

        def listening():
            if self.proc.poll() is not None:
                raise AssertionError("receiver exited with %d" % self.proc.returncode)
            return os.path.exists(port_file)
        wait_for(listening, 20, "the receiver to listen")
        with open(port_file) as f:
            self.port = int(f.read())
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            self._err.close()

    def url(self, path="/ingest", host="localhost"):
        return "https://%s:%d%s" % (host, self.port, path)

    def set_script(self, script):
        """One reply or a list of replies (see receiver.py); written atomically."""
        tmp = self.script_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(script, f)
        os.rename(tmp, self.script_path)

    def requests(self):
        """Every request logged so far (whole lines only), oldest first."""
        if not os.path.exists(self.log_path):
            return []
        out = []
        with open(self.log_path, encoding="utf-8") as f:
            for line in f:
                if line.endswith("\n"):
                    out.append(json.loads(line))
        return out

    def records(self, acked_only=True):
        """The records of the requests (by default those answered 2xx), in order."""
        out = []
        for r in self.requests():
            if acked_only and not 200 <= r["status"] < 300:
                continue
            body = r["body"]
            if isinstance(body, dict) and isinstance(body.get("records"), list):
                out.extend(body["records"])
        return out

    def wait_record(self, predicate, timeout=20.0, what="a record"):
        def find():
            for r in self.records():
                if predicate(r):
                    return r
            return None
        return wait_for(find, timeout, what)
