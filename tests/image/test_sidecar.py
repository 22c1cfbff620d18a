"""The sidecar image, run beside an application as a pod would run it.

scripts/image.sh builds the image from packaging/Dockerfile; this test runs it
with buildah (no Docker daemon needed) the way a pod runs a sidecar:

- the application, a process on the host, writes ERROR lines into a log folder
  the container gets as a volume at /var/log/app;
- the host's /proc is mounted at /host/proc, `state_dir` is a volume owned by
  uid 9750, and conf.d (as from a ConfigMap) adds an output to an HTTPS receiver
  on the host;
- the container's entrypoint is the image's own, run as the image's own user.

It checks /health, /metrics, the log check's incident at the receiver, the uid
and the state volume; then stops the container the way a runtime does (SIGTERM
to its main process) within shutdown_timeout, starts it again on the same volume,
and sees that no incident opens twice.

  python3 tests/image/test_sidecar.py --vigil build/vigil --source . --image TAG
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import harness  # noqa: E402
from harness import Workdir, wait_for  # noqa: E402
from receiver_harness import Receiver, make_certs  # noqa: E402
from status_client import get_json, http_get, parse_metrics, series, try_get  # noqa: E402

IMAGE = None
BUILDAH = ["buildah", "--storage-driver", "vfs"]
ADDRESS = "127.0.0.1:9750"  # conf/sidecar.ini's status_listen, on the shared network
UID = 9750
SHUTDOWN_TIMEOUT = 5.0  # the default shutdown_timeout the image keeps


def buildah(*args):
    r = subprocess.run(BUILDAH + list(args), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "buildah %s: %s" % (" ".join(args), r.stderr)
    return r.stdout.strip()


def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue  # it ended meanwhile
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(entry))
    return out


def status_field(pid, name):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split()[1:]
    return None


class Container:
    """One run of the image: `buildah run` with the volumes a pod would give."""

    def __init__(self, workdir, volumes):
        self.w = workdir
        self.volumes = volumes
        self.name = "vigil-sidecar-test-%d" % os.getpid()
        subprocess.run(BUILDAH + ["rm", self.name], capture_output=True)
        buildah("from", "--pull=never", "--name", self.name, IMAGE)
        config = json.loads(buildah("inspect", "--type", "container", self.name))["OCIv1"]["config"]
        self.entrypoint = config["Entrypoint"]
        self.proc = None
        self.runs = 0

    def start(self):
        self.runs += 1
        args = BUILDAH + ["run", "--isolation", "chroot"]
        for host, inside in self.volumes:
            args += ["-v", "%s:%s" % (host, inside)]
        self._out = open(self.w.file("container.%d.out" % self.runs), "w")
        self.proc = subprocess.Popen(args + [self.name, "--"] + self.entrypoint,
                                     stdout=self._out, stderr=subprocess.STDOUT)
        self.agent_pid = wait_for(self._agent, 60, "vigil to start in the container")
        return self

    def processes(self):
        """Every process below buildah, deepest last."""
        out, todo = [], [self.proc.pid]
        while todo:
            kids = children(todo.pop())
            out += kids
            todo += kids
        return out

    def _agent(self):
        """The container's main process: vigil, below buildah's chroot helpers."""
        if self.proc.poll() is not None:
            raise AssertionError("the container exited: " + self.output())
        for pid in self.processes():
            try:
                with open("/proc/%d/comm" % pid) as f:
                    if f.read().strip() == "vigil":
                        return pid
            except OSError:
                continue  # it ended meanwhile
        return None

    def output(self):
        with open(self.w.file("container.%d.out" % self.runs)) as f:
            return f.read()

    def stop(self):
        """SIGTERM to the main process, as `docker stop` sends it; the seconds it took."""
        t0 = time.monotonic()
        os.kill(self.agent_pid, signal.SIGTERM)
        code = self.proc.wait(SHUTDOWN_TIMEOUT + 30)
        took = time.monotonic() - t0
        self._out.close()
        return code, took

    def remove(self):
        if self.proc is not None and self.proc.poll() is None:
            # The container's processes first: buildah's chroot helpers outlive it.
            for pid in self.processes():
                os.kill(pid, signal.SIGKILL)
            self.proc.kill()
            self.proc.wait()
            self._out.close()
        subprocess.run(BUILDAH + ["rm", self.name], capture_output=True)


def opens(receiver):
    return [r for r in receiver.records()
            if r.get("kind") == "incident" and r["check"] == "app" and r["action"] == "open"]


class Sidecar(unittest.TestCase):
    def setUp(self):
        self.assertIsNone(try_get(ADDRESS, "/health", 1),
                          "something already listens on %s: stop it first" % ADDRESS)
        self.passed = False
        self.w = Workdir()
        certs = make_certs(self.w.file("certs"))
        self.receiver = Receiver(self.w, certs).start()
        self.logs = self.w.file("app-logs")
        self.state = self.w.file("state")
        confd = self.w.file("conf.d")
        for d, mode in ((self.logs, 0o755), (self.state, 0o750), (confd, 0o755)):
            os.makedirs(d)
            os.chmod(d, mode)
        os.chown(self.state, UID, UID)  # as a pod's securityContext.fsGroup makes it
        shutil.copy(os.path.join(certs, "ca.crt"), os.path.join(confd, "ca.crt"))
        self.w.write("conf.d/receiver.ini",
                     "[output central]\nurl = %s\nca_file = /etc/vigil/conf.d/ca.crt\n"
                     % self.receiver.url())
        self.container = Container(self.w, [
            ("/proc", "/host/proc:ro"),
            (self.logs, "/var/log/app"),
            (self.state, "/var/lib/vigil"),
            (confd, "/etc/vigil/conf.d:ro"),
        ])

    def tearDown(self):
        if self.container.proc is not None and not self.passed:
            status = try_get(ADDRESS, "/status", 2)
            print("\n--- the container's output\n%s\n--- /status\n%s" % (
                self.container.output(), status and status[2]), file=sys.stderr)
        self.container.remove()
        self.receiver.stop()
        self.w.cleanup()

    def application_logs(self, *lines):
        """The application: a process of its own appending to its log file."""
        script = "".join("echo %s >> %s/app.log;" % (json.dumps(l), self.logs) for l in lines)
        subprocess.run(["sh", "-c", script], check=True, timeout=10)

    def wait_health(self):
        def healthy():
            got = try_get(ADDRESS, "/health", 2)
            return got if got and got[0] == 200 else None
        return wait_for(healthy, 60, "/health on " + ADDRESS)

    def ran(self, name, since=""):
        """The check's /status entry once it has run (after `since`), else None."""
        check = [c for c in get_json(ADDRESS)["checks"] if c["name"] == name][0]
        return check if check["last_run"] is not None and check["last_run"] > since else None

    def spool_empty(self):
        out = [o for o in get_json(ADDRESS)["outputs"] if o["name"] == "central"][0]
        return out["spool_records"] == 0 and out["last_success"] is not None

    def test_sidecar_delivers_the_application_errors_once_across_a_restart(self):
        self.application_logs("INFO shop started")
        c = self.container.start()
        self.assertEqual(self.wait_health()[2].strip(), "ok")
        # The log check starts at the end of the files it finds (from = end): the
        # application's error comes once the check has seen its file.
        wait_for(lambda: self.ran("app"), 30, "the log check's first run")
        self.application_logs("ERROR payment failed: card declined")

        # The agent is the image's user, not root, and its state is on the volume.
        self.assertEqual(status_field(c.agent_pid, "Uid")[:2], [str(UID), str(UID)])
        incident = self.receiver.wait_record(
            lambda r: r.get("kind") == "incident" and r["check"] == "app" and
            r["action"] == "open", 60, "the log check's incident at the receiver")
        self.assertEqual(incident["severity"], "warning")
        state_files = os.listdir(self.state)
        self.assertIn("state.0", state_files)
        self.assertEqual(os.stat(os.path.join(self.state, "state.0")).st_uid, UID)

        status, headers, body = http_get(ADDRESS, "/metrics")
        self.assertEqual(status, 200)
        families = parse_metrics(body)
        self.assertEqual(series(families, "vigil_check_state", check="app", state="warning"),
                         [1.0])

        # The cpu and memory checks with cgroup = auto: figures on a cgroup v2 host,
        # the documented error on a cgroup v1 one.
        v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
        for name in ("cpu", "memory"):
            check = wait_for(lambda: self.ran(name), 30, "the %s check's first run" % name)
            if v2:
                self.assertIsNone(check["error"], check)
            else:
                self.assertRegex(check["error"] or "", r"not a cgroup v2 mount .*cgroup = none")

        rss_kib = int(status_field(c.agent_pid, "VmRSS")[0])
        print("\nvigil in the container: VmRSS %d KiB" % rss_kib, file=sys.stderr)

        code, took = c.stop()
        self.assertEqual(code, 0, c.output())
        self.assertLess(took, SHUTDOWN_TIMEOUT + 1.0)

        # Again on the same volume: the incident is still open, not opened anew,
        # and the line already read is not read again.
        restarted_at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        self.container.start()
        self.wait_health()
        # Once the log check has run again, the incident manager has seen it: the
        # incident is the one restored from the volume (or resolved), never new.
        wait_for(lambda: self.ran("app", restarted_at), 60, "the log check's run after restart")
        app = [i["incident_id"] for i in get_json(ADDRESS)["incidents"] if i["check"] == "app"]
        self.assertIn(app, ([], [incident["incident_id"]]))
        wait_for(self.spool_empty, 60, "the restarted agent's spool to drain")
        self.assertEqual(len(opens(self.receiver)), 1, opens(self.receiver))
        code, took = self.container.stop()
        self.assertEqual(code, 0, self.container.output())
        self.passed = True


def main():
    global IMAGE
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--image", required=True)
    args, rest = p.parse_known_args()
    IMAGE = args.image
    sys.argv = [sys.argv[0]] + rest
    harness.main()


if __name__ == "__main__":
    main()
