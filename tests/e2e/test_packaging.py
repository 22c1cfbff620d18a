"""The Debian package (CPack) and the sidecar configuration.

`cpack -G DEB` in the build folder makes vigil_VERSION_ARCH.deb: its files, its
conffiles, its dependencies and its maintainer scripts are checked here. When
CI=true and we are root, the package is also installed with apt-get, checked
(user, unit, config) and purged. The sidecar config (conf/sidecar.ini) runs
against a fixture /host/proc and serves /health on every address.
"""

import grp
import json
import os
import pwd
import re
import shutil
import subprocess
import unittest
import urllib.request

import harness
from harness import Agent, Workdir, run_cli, wait_for
from receiver_harness import free_port

DEB_TOOLS = all(shutil.which(t) for t in ("cpack", "dpkg-deb", "dpkg"))


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)


class Package(unittest.TestCase):
    """Builds the .deb once; the tests read it."""

    @classmethod
    def setUpClass(cls):
        if not DEB_TOOLS:
            raise unittest.SkipTest("cpack, dpkg-deb or dpkg missing (apt-get install cmake dpkg)")
        cls.w = Workdir()
        build = os.path.dirname(harness.VIGIL)
        config = os.path.join(build, "CPackConfig.cmake")
        assert os.path.exists(config), "no CPackConfig.cmake in %s" % build
        out = cls.w.file("out")
        r = run(["cpack", "-G", "DEB", "--config", config, "-B", out], cwd=build)
        assert r.returncode == 0, r.stdout + r.stderr
        arch = run(["dpkg", "--print-architecture"]).stdout.strip()
        version = run([harness.VIGIL, "--version"]).stdout.split()[-1]
        cls.deb = os.path.join(out, "vigil_%s_%s.deb" % (version, arch))
        assert os.path.exists(cls.deb), "%s not made: %s" % (cls.deb, os.listdir(out))
        cls.root = cls.w.file("root")
        r = run(["dpkg-deb", "-x", cls.deb, cls.root])
        assert r.returncode == 0, r.stderr
        cls.control = cls.w.file("control")
        r = run(["dpkg-deb", "-e", cls.deb, cls.control])
        assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        cls.w.cleanup()

    def field(self, name):
        r = run(["dpkg-deb", "-f", self.deb, name])
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def control_file(self, name):
        with open(os.path.join(self.control, name)) as f:
            return f.read()

    def test_contents(self):
        r = run(["dpkg-deb", "-c", self.deb])
        self.assertEqual(r.returncode, 0, r.stderr)
        paths = {line.split()[-1].lstrip(".") for line in r.stdout.splitlines()}
        for p in ("/usr/bin/vigil", "/lib/systemd/system/vigil.service",
                  "/usr/lib/sysusers.d/vigil.conf", "/usr/lib/tmpfiles.d/vigil.conf",
                  "/etc/vigil/vigil.ini", "/etc/vigil/conf.d/", "/usr/share/doc/vigil/README.md",
                  "/usr/share/doc/vigil/examples/sidecar.ini", "/usr/share/man/man1/vigil.1"):
            self.assertIn(p, paths)
        self.assertFalse([p for p in paths if p.startswith("/usr/local")], paths)
        self.assertFalse([p for p in paths if "testblock" in p], "the test-only plugin's sample")

    def test_installed_files_are_the_project_files(self):
        with open(os.path.join(self.root, "lib/systemd/system/vigil.service")) as f:
            packaged = f.read()
        with open(os.path.join(harness.SOURCE, "systemd/vigil.service")) as f:
            self.assertEqual(packaged, f.read())
        r = run([os.path.join(self.root, "usr/bin/vigil"), "--version"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, run([harness.VIGIL, "--version"]).stdout)

    def test_packaged_config_is_valid_and_keeps_state_in_var_lib(self):
        path = os.path.join(self.root, "etc/vigil/vigil.ini")
        with open(path) as f:
            text = f.read()
        self.assertRegex(text, r"(?m)^state_dir = /var/lib/vigil$")
        # Valid as it ships; check-config touches no state_dir.
        r = run_cli(["check-config", "-c", path])
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "ok"), r.stderr)

    def test_config_is_a_conffile(self):
        self.assertEqual(self.control_file("conffiles").split(), ["/etc/vigil/vigil.ini"])

    def test_depends_on_the_runtime_libraries(self):
        depends = self.field("Depends")
        names = {d.strip().split()[0] for d in depends.split(",")}
        for lib in ("libuv1", "libcurl4", "libinih1", "libpcre2-8-0", "zlib1g"):
            self.assertIn(lib, names, depends)
        self.assertEqual(self.field("Package"), "vigil")

    def test_maintainer_scripts_start_nothing_and_guard_systemctl(self):
        for name in ("postinst", "prerm", "postrm"):
            path = os.path.join(self.control, name)
            self.assertTrue(os.access(path, os.X_OK), name)
            text = self.control_file(name)
            self.assertEqual(run(["sh", "-n", path]).returncode, 0, name)
            code_only = "\n".join(l.split("#", 1)[0] for l in text.splitlines())
            self.assertNotRegex(code_only, r"systemctl\s+(enable|start|restart)\b", name)
            # Every systemctl call sits inside the "is systemd running" guard.
            guarded = False
            for line in text.splitlines():
                code = line.split("#", 1)[0]
                if "[ -d /run/systemd/system ]" in code:
                    guarded = True
                elif re.match(r"\s*fi\b", code):
                    guarded = False
                if re.search(r"\bsystemctl\b", code) and "/run/systemd/system" not in code:
                    self.assertTrue(guarded, "%s: unguarded: %s" % (name, line))

    @unittest.skipUnless(os.environ.get("CI") == "true",
                         "installs into this machine: only with CI=true (and as root)")
    def test_install_with_apt_then_purge(self):
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            self.skipTest("needs root and apt-get")
        if run(["dpkg", "-s", "vigil"]).returncode == 0:
            self.skipTest("a vigil package is installed already; leaving it alone")
        user_existed = user_exists("vigil")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            r = run(["apt-get", "install", "-y", "--no-install-recommends", self.deb], env=env)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertTrue(user_exists("vigil"))
            groups = run(["id", "-nG", "vigil"]).stdout.split()
            self.assertIn("adm", groups)
            self.assertTrue(os.path.isfile("/lib/systemd/system/vigil.service"))
            self.assertTrue(os.path.isdir("/etc/vigil/conf.d"))
            st = os.stat("/var/lib/vigil")
            self.assertEqual(pwd.getpwuid(st.st_uid).pw_name, "vigil")
            self.assertEqual(st.st_mode & 0o777, 0o750)
            r = run(["/usr/bin/vigil", "check-config", "-c", "/etc/vigil/vigil.ini"])
            self.assertEqual((r.returncode, r.stdout.strip()), (0, "ok"), r.stderr)
        finally:
            r = run(["apt-get", "purge", "-y", "vigil"], env=env)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            if not user_existed and user_exists("vigil"):
                run(["userdel", "vigil"])
                try:
                    grp.getgrnam("vigil")
                    run(["groupdel", "vigil"])
                except KeyError:
                    pass
        for p in ("/usr/bin/vigil", "/etc/vigil/vigil.ini", "/var/lib/vigil",
                  "/lib/systemd/system/vigil.service"):
            self.assertFalse(os.path.exists(p), p + " left after purge")


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


class Sidecar(unittest.TestCase):
    """conf/sidecar.ini with /host/proc and the app's log folder on fixtures."""

    def setUp(self):
        self.w = Workdir()
        self.agent = None
        proc = self.w.file("host/proc")
        os.makedirs(proc)
        self.w.write("host/proc/loadavg", "3.00 2.00 1.00 2/300 4242\n")
        self.w.write("host/proc/stat", "cpu  10 0 10 100 0 0 0 0 0 0\n"
                     "cpu0 5 0 5 50 0 0 0 0 0 0\ncpu1 5 0 5 50 0 0 0 0 0 0\n")
        self.w.write("host/proc/meminfo", "MemTotal: 1000 kB\nMemAvailable: 500 kB\n")
        os.makedirs(self.w.file("app-logs"))
        self.log = self.w.write("app-logs/app.log", "starting\n")
        with open(os.path.join(harness.SOURCE, "conf/sidecar.ini")) as f:
            text = f.read()
        for literal in ("procfs = /host/proc", "status_listen = 0.0.0.0:9750",
                        "path = /var/log/app/*.log", "cgroup = auto"):
            self.assertIn(literal, text)
        self.port = free_port()
        text = (text.replace("/host/proc", proc)
                .replace("0.0.0.0:9750", "0.0.0.0:%d" % self.port)
                .replace("/var/log/app/", self.w.file("app-logs") + "/")
                .replace("interval = 10s", "interval = 300ms"))
        self.config = self.w.write("sidecar.ini", text)
        self.env = {"VIGIL_STATE_DIR": self.w.file("state")}

    def tearDown(self):
        if self.agent and self.agent.proc and self.agent.proc.poll() is None:
            self.agent.kill9()
        self.w.cleanup()

    def test_once_reads_the_host_proc(self):
        r = run_cli(["once", "-c", self.config], env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        checks = {c["name"]: c for c in map(json.loads, r.stdout.splitlines())}
        self.assertEqual(list(checks), ["cpu", "memory", "load", "app"])
        self.assertEqual(checks["load"]["metrics"]["load1"], 3.0)
        self.assertEqual(checks["load"]["metrics"]["load1_per_cpu"], 1.5)
        # cgroup = auto: the container's own limits (cgroup v2), or a clear error
        # on a machine without them.
        for name in ("cpu", "memory"):
            c = checks[name]
            if c["state"] == "unknown":
                self.assertRegex(c["error"], r"cgroup|\.max|\.stat", c)
            else:
                self.assertIn("used_percent" if name == "memory" else "usage_percent",
                              c["metrics"])
        self.assertFalse(os.path.exists(self.w.file("state")), "once writes no state")

    def test_health_on_every_address_and_app_log_errors(self):
        self.agent = Agent(self.w, self.config, env=self.env).start()

        def health():
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/health" % self.port,
                                            timeout=5) as resp:
                    return resp.status
            except OSError:
                self.assertIsNone(self.agent.proc.poll(), self.agent.stderr())
                return None
        self.assertEqual(wait_for(health, 30, "/health on port %d" % self.port), 200)
        def status():
            url = "http://127.0.0.1:%d/status" % self.port
            with urllib.request.urlopen(url, timeout=5) as resp:
                return json.load(resp)
        names = [c["name"] for c in status()["checks"] if c["name"] != "vigil"]
        self.assertEqual(names, ["cpu", "memory", "load", "app"])
        # The app writes an error into the shared volume once the log check has
        # looked (it starts at the end of the file): a warning event.
        wait_for(lambda: [c for c in status()["checks"] if c["name"] == "app" and c["last_run"]],
                 30, "the log check's first run")
        with open(self.log, "a") as f:
            f.write("ERROR payment failed\n")
        e = self.agent.wait_record(
            lambda r: r["kind"] == "event" and r["check"] == "app" and r["state"] != "ok", 30,
            "the app log event")
        self.assertEqual(e["state"], "warning")
        self.assertEqual(e["metric"], "matches")
        self.assertEqual(self.agent.stop(30), 0)


# The Pod fields the example uses, by the object they belong to (the Kubernetes
# API's core/v1 names); kubectl is not at hand to validate it, so this does.
POD_FIELDS = {
    "pod": {"apiVersion", "kind", "metadata", "spec"},
    "metadata": {"name", "labels", "annotations", "namespace"},
    "spec": {"shareProcessNamespace", "hostPID", "securityContext", "containers", "volumes"},
    "podSecurityContext": {"fsGroup", "runAsUser", "runAsGroup", "runAsNonRoot"},
    "container": {"name", "image", "args", "command", "resources", "securityContext", "ports",
                  "livenessProbe", "readinessProbe", "volumeMounts", "env"},
    "resources": {"limits", "requests"},
    "securityContext": {"runAsNonRoot", "runAsUser", "readOnlyRootFilesystem",
                        "allowPrivilegeEscalation", "capabilities"},
    "port": {"name", "containerPort", "protocol"},
    "probe": {"httpGet", "periodSeconds", "failureThreshold", "initialDelaySeconds",
              "timeoutSeconds"},
    "httpGet": {"path", "port"},
    "volumeMount": {"name", "mountPath", "readOnly", "subPath"},
    "volume": {"name", "emptyDir", "hostPath", "configMap", "secret", "persistentVolumeClaim"},
}


class PodExample(unittest.TestCase):
    """packaging/README.md's pod: the shape of a core/v1 Pod, and the image's paths."""

    def setUp(self):
        try:
            import yaml  # noqa: F401 (python3-yaml)
        except ImportError:
            self.skipTest("python3-yaml is missing (apt-get install python3-yaml)")
        with open(os.path.join(harness.SOURCE, "packaging/README.md")) as f:
            blocks = re.findall(r"```yaml\n(.*?)```", f.read(), re.S)
        self.assertEqual(len(blocks), 1, "one yaml block in packaging/README.md")
        self.pod = yaml.safe_load(blocks[0])

    def only(self, obj, kind):
        self.assertIsInstance(obj, dict, kind)
        self.assertLessEqual(set(obj), POD_FIELDS[kind], "unknown %s field" % kind)

    def test_the_pod_example_is_a_pod_with_the_sidecar_mounts(self):
        pod = self.pod
        self.only(pod, "pod")
        self.assertEqual((pod["apiVersion"], pod["kind"]), ("v1", "Pod"))
        self.only(pod["metadata"], "metadata")
        spec = pod["spec"]
        self.only(spec, "spec")
        self.only(spec["securityContext"], "podSecurityContext")
        self.assertEqual(spec["securityContext"]["fsGroup"], 9750, "the image's user owns state")
        volumes = {}
        for v in spec["volumes"]:
            self.only(v, "volume")
            self.assertEqual(len(set(v) - {"name"}), 1, "one source per volume: %s" % v)
            volumes[v["name"]] = v
        containers = {c["name"]: c for c in spec["containers"]}
        for c in containers.values():
            self.only(c, "container")
            self.assertIsInstance(c["image"], str)
            for m in c.get("volumeMounts", []):
                self.only(m, "volumeMount")
                self.assertIn(m["name"], volumes, "a mount of an undeclared volume")
                self.assertTrue(m["mountPath"].startswith("/"))
        vigil = containers["vigil"]
        for part in ("resources", "securityContext"):
            self.only(vigil[part], part)
        ports = {}
        for p in vigil["ports"]:
            self.only(p, "port")
            ports[p["name"]] = p["containerPort"]
        self.assertEqual(ports, {"status": 9750}, "conf/sidecar.ini's status_listen")
        probe = vigil["livenessProbe"]
        self.only(probe, "probe")
        self.only(probe["httpGet"], "httpGet")
        self.assertEqual(probe["httpGet"]["path"], "/health")
        self.assertIn(probe["httpGet"]["port"], ports)
        mounts = {m["mountPath"]: m["name"] for m in vigil["volumeMounts"]}
        # What conf/sidecar.ini and packaging/Dockerfile expect to find mounted.
        self.assertEqual(set(mounts), {"/var/log/app", "/host/proc", "/var/lib/vigil",
                                       "/etc/vigil/conf.d"})
        app_logs = [m["name"] for m in containers["app"]["volumeMounts"]
                    if m["mountPath"] == "/var/log/app"]
        self.assertEqual(app_logs, [mounts["/var/log/app"]], "the log folder is shared")
        self.assertEqual(volumes[mounts["/host/proc"]]["hostPath"]["path"], "/proc")


if __name__ == "__main__":
    harness.main()
