"""Shared helpers for the fault suite: the end-to-end harness plus real faults.

Each fault test drives the real binary into a fault a sick host has (a full file
system, a stalled pipe, a damaged spool, a reload storm) and asserts what a user
would notice: the agent keeps running, reports the fault, and loses nothing it
does not count. Full file systems are real tmpfs mounts: as root directly, else
inside a user and mount namespace (`unshare --user --map-root-user --mount`),
into which a test re-executes itself.
"""

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import harness  # noqa: E402,F401  (re-exported for the tests)
from harness import AgentTestCase, Workdir, wait_for  # noqa: E402,F401
from receiver_harness import make_certs  # noqa: E402

F_SETPIPE_SZ = 1031


def ensure_root_for_mounts():
    """Re-executes this script inside a user+mount namespace unless already root."""
    if os.geteuid() == 0:
        return
    if os.environ.get("VIGIL_FAULTS_UNSHARED"):
        raise SystemExit("cannot get a mount namespace: run as root or allow unshare")
    env = dict(os.environ, VIGIL_FAULTS_UNSHARED="1")
    os.execvpe("unshare", ["unshare", "--user", "--map-root-user", "--mount",
                           sys.executable] + sys.argv, env)


class Tmpfs:
    """A real, small file system: writes past `size` fail with ENOSPC."""

    def __init__(self, path, size):
        self.path = path
        os.makedirs(path, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0755" % size, "tmpfs", path],
                       check=True)

    def fill(self, keep=0):
        """Writes a filler file until the file system is full, then frees `keep` bytes."""
        filler = os.path.join(self.path, "filler")
        with open(filler, "ab", buffering=0) as f:
            chunk = b"\0" * 4096
            try:
                while True:
                    f.write(chunk)
            except OSError:
                pass
        if keep:
            size = os.path.getsize(filler)
            os.truncate(filler, max(0, size - keep))
        return filler

    def free(self):
        filler = os.path.join(self.path, "filler")
        if os.path.exists(filler):
            os.unlink(filler)

    def unmount(self):
        subprocess.run(["umount", "-l", self.path], check=False)


def small_pipe(size=4096):
    """A pipe shrunk to one page: a writer that nobody reads stalls in seconds."""
    r, w = os.pipe()
    fcntl.fcntl(w, F_SETPIPE_SZ, size)
    return r, w


def witnessed(path):
    """Ids of the whole records a file: output wrote, in order."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["id"] for line in f if line.endswith("\n")]


class FaultTestCase(AgentTestCase):
    """A fault test: certificates for a TLS receiver (made once per class), and small
    file systems that are unmounted after the agents using them are gone."""

    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="vigil-fault-certs-")
        make_certs(cls.certs)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.certs, ignore_errors=True)

    def status(self):
        """The agent's /status on 127.0.0.1:self.port, once its server answers."""
        def ask():
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/status" % self.port,
                                            timeout=2) as r:
                    return json.load(r)
            except OSError:
                return None
        return wait_for(ask, 20, "the status server")

    def http(self):
        """The status of the output named http."""
        return [o for o in self.status()["outputs"] if o["name"] == "http"][0]

    def setUp(self):
        super().setUp()
        self.mounts = []

    def ca_file(self):
        return os.path.join(self.certs, "ca.crt")

    def mount(self, name, size):
        fs = Tmpfs(self.w.file(name), size)
        self.mounts.append(fs)
        return fs

    def tearDown(self):
        # The agents go first (they hold files open), then the mounts, then the folder.
        for a in self.agents:
            if a.proc and a.proc.poll() is None:
                a.kill9()
        for fs in self.mounts:
            fs.unmount()
        super().tearDown()


def main():
    harness.main()
