"""Shared helpers for vigil's end-to-end tests.

Each test starts the built binary with a config in a fresh temporary folder,
drives it (files, processes, signals, a receiver) and waits for what it printed
or what the receiver got. Waits poll a predicate until a deadline; they never
sleep a fixed time and hope.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

VIGIL = None
VIGIL_TEST = None  # vigil plus the test-only plugins (tests/plugins/), beside VIGIL
SOURCE = None


def parse_args():
    """Takes --vigil and --source off argv, leaves the rest to unittest."""
    global VIGIL, VIGIL_TEST, SOURCE
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--vigil", required=True)
    p.add_argument("--source", required=True)
    args, rest = p.parse_known_args()
    VIGIL = os.path.abspath(args.vigil)
    VIGIL_TEST = os.path.join(os.path.dirname(VIGIL), "vigil-test")
    SOURCE = os.path.abspath(args.source)
    sys.argv = [sys.argv[0]] + rest


def main():
    parse_args()
    unittest.main(verbosity=2)


def wait_for(predicate, timeout=20.0, what="condition"):
    """Polls predicate until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(0.02)


class Workdir:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="vigil-e2e-")

    def file(self, name):
        return os.path.join(self.path, name)

    def write(self, name, text, mode=None):
        p = self.file(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        if mode is not None:
            os.chmod(p, mode)
        return p

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


def run_cli(args, env=None, timeout=60):
    e = dict(os.environ)
    e.pop("JOURNAL_STREAM", None)
    if env:
        e.update(env)
    return subprocess.run([VIGIL] + args, capture_output=True, text=True, env=e,
                          timeout=timeout)


class Agent:
    """A running `vigil run`: stdout (records) and stderr (logs) go to files."""

    def __init__(self, workdir, config_path, env=None, name="agent", binary=None):
        self.workdir = workdir
        self.binary = binary
        self.config = config_path
        self.env = dict(os.environ)
        self.env.pop("JOURNAL_STREAM", None)
        self.env.pop("NOTIFY_SOCKET", None)
        if env:
            self.env.update(env)
        self.name = name
        self.proc = None
        self.runs = 0

    def start(self):
        self.runs += 1
        self.out_path = self.workdir.file("%s.%d.stdout" % (self.name, self.runs))
        self.err_path = self.workdir.file("%s.%d.stderr" % (self.name, self.runs))
        self._out = open(self.out_path, "w")
        self._err = open(self.err_path, "w")
        self.proc = subprocess.Popen([self.binary or VIGIL, "run", "-c", self.config], stdout=self._out,
                                     stderr=self._err, env=self.env)
        return self

    def records(self, run=None):
        """Records printed on stdout so far (all runs, or one run)."""
        out = []
        runs = [run] if run else range(1, self.runs + 1)
        for r in runs:
            p = self.workdir.file("%s.%d.stdout" % (self.name, r))
            if not os.path.exists(p):
                continue
            with open(p) as f:
                for line in f:
                    if line.endswith("\n"):
                        out.append(json.loads(line))
        return out

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def wait_record(self, predicate, timeout=20.0, what="a record"):
        def find():
            for r in self.records():
                if predicate(r):
                    return r
            return None
        return wait_for(find, timeout, what)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=15.0):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        finally:
            self._out.close()
            self._err.close()
        return code

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self._out.close()
        self._err.close()

    def exited(self):
        return self.proc.poll() is not None


def events(records, check=None):
    return [r for r in records if r.get("kind") == "event" and (check is None or r["check"] == check)]


def incidents(records, check=None):
    return [r for r in records
            if r.get("kind") == "incident" and (check is None or r["check"] == check)]


class AgentTestCase(unittest.TestCase):
    """A test with its own folder; agents and receivers it starts are ended after it."""

    def setUp(self):
        self.w = Workdir()
        self.agents = []
        self.receivers = []

    def tearDown(self):
        for a in self.agents:
            if a.proc and a.proc.poll() is None:
                a.kill9()
        for r in self.receivers:
            stop = getattr(r, "stop", None)
            if stop is not None:
                stop()
            else:
                r.kill()
                r.wait()
        self.w.cleanup()
