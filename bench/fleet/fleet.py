#!/usr/bin/env python3
"""The fleet bench (docs/FLEET.md): N vigil agents against a 3-replica Alertmanager
cluster on loopback, through a recording proxy. Run it through bench/fleet/run.sh.

Phases: start (Alertmanager cluster, webhook, proxy, agents); idle with no
incident; every flag set, every alert checked on every replica, idle with N open
incidents; one replica killed and restarted; every flag cleared; an outage of the
proxy with every flag set at its start; recovery. CPU and memory come from
/proc/PID (utime+stime of each process and of its reaped children; smaps_rollup
Pss), never from wall time: the machine is shared.

Every process it starts is a child it ends itself, by its PID; every address is
127.0.0.1; every wait has a deadline.
"""

import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from alertmanager_harness import INSTALLED, NOT_INSTALLED, Alertmanager, Webhook, get  # noqa: E402
from harness import Workdir  # noqa: E402
from receiver_harness import free_port  # noqa: E402

import herd_sim  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
REPLICAS = 3
PEER_TIMEOUT = 15  # Alertmanager's --cluster.peer-timeout default
GROUP_WAIT = 10
GROUP_INTERVAL = 30

AM_CONFIG = """route:
  receiver: hook
  group_by: [vigil_problem]
  group_wait: %ds
  group_interval: %ds
  repeat_interval: 12h
receivers:
  - name: hook
    webhook_configs:
      - url: %s
        send_resolved: true
"""

AGENT_CONFIG = """[agent]
hostname = %(host)s
state_dir = %(dir)s/state
heartbeat = 0
log_level = warning

; No rules: the shared machine's own load must not open incidents. The flag
; check is the only source of alerts.
[cpu]
[memory]
[load]
[disk root]
path = /

[exec flag]
command = /bin/sh -c 'if test -e %(dir)s/flag; then echo "CRITICAL - flag set"; exit 2; fi; echo OK'
interval = %(exec_interval)s

%(outputs)s
"""

OUTPUT = """[output am%d]
url = http://127.0.0.1:%d/api/v2/alerts
format = alertmanager
"""


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def wait_until(predicate, timeout, step=0.5):
    """predicate() until truthy or `timeout` seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


# --- per-process accounting --------------------------------------------------

def cpu_seconds(pid):
    """(utime+stime of the process, of its reaped children: the exec checks), seconds."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return sum(int(x) for x in rest[11:13]) / TICK, sum(int(x) for x in rest[13:15]) / TICK


def proc_kib(pid, path, field):
    try:
        with open("/proc/%d/%s" % (pid, path)) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Meter:
    """CPU of a set of processes over a window."""

    def __init__(self, pids):
        self.pids = list(pids)
        self.start = {p: cpu_seconds(p) for p in self.pids}
        self.t0 = time.monotonic()

    def stop(self):
        """(CPU seconds of the processes, of their reaped children, wall seconds)."""
        dt = time.monotonic() - self.t0
        own = children = 0.0
        for p in self.pids:
            end = cpu_seconds(p)
            if end is not None and self.start[p] is not None:
                own += end[0] - self.start[p][0]
                children += end[1] - self.start[p][1]
        return own, children, dt


# --- Alertmanager's view -----------------------------------------------------

def active_alerts(am):
    """{(instance, vigil_problem): labels} of the active `flag` alerts, or None."""
    q = urllib.parse.urlencode({"filter": 'alertname="flag"', "silenced": "false",
                                "inhibited": "false"})
    status, body = get(am.base + "/api/v2/alerts?" + q)
    if status != 200:
        return None
    out = {}
    for a in json.loads(body):
        if a.get("status", {}).get("state") == "active":
            lab = a["labels"]
            out[(lab.get("instance"), lab.get("vigil_problem"))] = lab
    return out


class Poller(threading.Thread):
    """Polls every replica once a second; finds alerts that went away and came back
    (resolved, then firing again) on a replica that was not restarted meanwhile."""

    def __init__(self, replicas):
        super().__init__(daemon=True)
        self.replicas = replicas
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.seen = [dict() for _ in replicas]  # key -> last poll index it was active
        self.gone = [set() for _ in replicas]  # seen once, then absent
        self.flaps = [set() for _ in replicas]
        self.polls = 0
        self.enabled = True

    def forget(self, i):
        with self.lock:
            self.seen[i], self.gone[i] = {}, set()

    def run(self):
        while not self.stop_event.wait(1.0):
            if not self.enabled:
                continue
            for i, am in enumerate(self.replicas):
                now = active_alerts(am)
                if now is None:
                    continue
                with self.lock:
                    for key in self.seen[i]:
                        if key not in now:
                            self.gone[i].add(key)
                    for key in now:
                        if key in self.gone[i]:
                            self.flaps[i].add(key)
                            self.gone[i].discard(key)
                        self.seen[i][key] = self.polls
            self.polls += 1

    def flap_count(self):
        with self.lock:
            return sum(len(f) for f in self.flaps), [sorted(f)[:3] for f in self.flaps]


# --- the fleet ---------------------------------------------------------------

class Fleet:
    def __init__(self, args):
        self.args = args
        self.w = Workdir()
        self.procs = []  # agents
        self.hosts = ["host-%04d" % (i + 1) for i in range(args.n)]
        self.am = []
        self.proxy = None
        self.hook = None
        self.inotify_note = ""

    # Alertmanager cluster, webhook, proxy
    def start_central(self):
        self.hook = Webhook()
        cluster_ports = [free_port() for _ in range(REPLICAS)]
        for i in range(REPLICAS):
            # The same receiver everywhere (the cluster deduplicates by its name),
            # a path of its own to tell who sent what.
            config = AM_CONFIG % (GROUP_WAIT, GROUP_INTERVAL, self.hook.url() + "am%d" % i)
            peers = ["127.0.0.1:%d" % p for j, p in enumerate(cluster_ports) if j != i]
            am = Alertmanager(self.w, config, name="am%d" % i, cluster=(cluster_ports[i], peers))
            self.am.append(am.start())
        ok = wait_until(lambda: all(self.cluster_size(a) == REPLICAS for a in self.am), 60)
        log("Alertmanager: %d replicas %s, cluster %s" % (
            REPLICAS, [a.base for a in self.am], "formed" if ok else "NOT FORMED"))
        self.proxy_log = self.w.file("proxy.jsonl")
        self.control = free_port()
        self.listen = [free_port() for _ in range(REPLICAS)]
        pairs = ["%d:%d" % (l, a.port) for l, a in zip(self.listen, self.am)]
        self.proxy = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "proxy.py"), self.proxy_log, str(self.control)]
            + pairs, stdout=open(self.w.file("proxy.out"), "w"), stderr=subprocess.STDOUT)
        if not wait_until(lambda: get("http://127.0.0.1:%d/ready" % self.control)[0] == 200, 20):
            raise SystemExit("the proxy did not start: see " + self.w.file("proxy.out"))

    @staticmethod
    def cluster_size(am):
        status, body = get(am.base + "/api/v2/status")
        if status != 200:
            return 0
        return len(json.loads(body).get("cluster", {}).get("peers") or [])

    # Agents
    def agent_dir(self, i):
        return self.w.file("agents/" + self.hosts[i])

    def start_agents(self):
        outputs = "\n".join(OUTPUT % (r + 1, self.listen[r]) for r in range(REPLICAS))
        env = dict(os.environ)
        # libuv's pool would otherwise take blocking checks + 2 per output + 2 threads
        # in every agent (10 here: 10,000 threads for 1,000 agents).
        env["UV_THREADPOOL_SIZE"] = str(self.args.pool)
        for k in ("JOURNAL_STREAM", "NOTIFY_SOCKET"):
            env.pop(k, None)
        for i, host in enumerate(self.hosts):
            d = self.agent_dir(i)
            os.makedirs(d + "/state", exist_ok=True)
            with open(d + "/vigil.ini", "w") as f:
                f.write(AGENT_CONFIG % {"host": host, "dir": d, "outputs": outputs,
                                        "exec_interval": self.args.exec_interval})
        t0 = time.monotonic()
        chunk = 25
        for start in range(0, len(self.hosts), chunk):
            for i in range(start, min(start + chunk, len(self.hosts))):
                d = self.agent_dir(i)
                self.procs.append(subprocess.Popen(
                    [self.args.vigil, "run", "-c", d + "/vigil.ini"], cwd=d, env=env,
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=open(d + "/stderr", "w")))
            # Paced by the agents themselves: the next chunk once these are up.
            up = wait_until(lambda: all(os.path.exists(self.agent_dir(j) + "/state/vigil.sock")
                                        for j in range(start, len(self.procs))), 60, 0.2)
            dead = [p.pid for p in self.procs if p.poll() is not None]
            if dead or not up:
                raise SystemExit("agents did not start (exited: %s); see %s/stderr" % (
                    dead[:5], self.agent_dir(len(self.procs) - 1)))
            if start == 0:
                self.check_inotify()
        log("%d agents up in %.0f s" % (len(self.procs), time.monotonic() - t0))

    def check_inotify(self):
        """fs.inotify.max_user_instances is per user (128 by default): raise it when
        the agents need inotify instances, else say why it stays."""
        per_agent = max(self.inotify_instances(p.pid) for p in self.procs)
        path = "/proc/sys/fs/inotify/max_user_instances"
        limit = int(open(path).read())
        need = per_agent * self.args.n
        if need == 0:
            self.inotify_note = ("fs.inotify.max_user_instances left at %d: the agents hold "
                                 "no inotify instance (no log check)" % limit)
        elif need + 128 > limit:
            try:
                with open(path, "w") as f:
                    f.write(str(need + 128))
                self.inotify_note = "fs.inotify.max_user_instances raised from %d to %d" % (
                    limit, need + 128)
            except OSError as e:
                self.inotify_note = "cannot raise fs.inotify.max_user_instances (%s)" % e
        else:
            self.inotify_note = "fs.inotify.max_user_instances %d is enough" % limit
        log(self.inotify_note)

    @staticmethod
    def inotify_instances(pid):
        n = 0
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                try:
                    if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "anon_inode:inotify":
                        n += 1
                except OSError:
                    pass
        except OSError:
            pass
        return n

    def set_flags(self, on):
        for i in range(len(self.hosts)):
            flag = self.agent_dir(i) + "/flag"
            if on:
                open(flag, "w").close()
            elif os.path.exists(flag):
                os.unlink(flag)

    def agent_pids(self):
        return [p.pid for p in self.procs]

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self.proxy is not None and self.proxy.poll() is None:
            self.proxy.kill()
            self.proxy.wait()
        for am in self.am:
            am.stop()
        if self.hook is not None:
            self.hook.stop()

    # Measurements
    def footprint(self, label, seconds):
        pids = self.agent_pids()
        central = [a.proc.pid for a in self.am]
        fleet, am = Meter(pids), Meter(central)
        proxy = Meter([self.proxy.pid])
        time.sleep(seconds)
        own, children, dt = fleet.stop()
        used = own + children
        am_used = sum(am.stop()[:2])
        proxy_used = sum(proxy.stop()[:2])
        pss = sum(proc_kib(p, "smaps_rollup", "Pss") for p in pids)
        threads = sum(proc_kib(p, "status", "Threads") for p in pids)
        am_rss = [proc_kib(p, "status", "VmRSS") for p in central]
        fig = {"label": label, "window_s": round(dt, 1),
               "fleet_cpu_s_per_min": round(used * 60 / dt, 2),
               "fleet_cpu_s_per_s": round(used / dt, 4),
               "agents_own_cpu_s_per_min": round(own * 60 / dt, 2),
               "exec_children_cpu_s_per_min": round(children * 60 / dt, 2),
               "fleet_pss_mib": round(pss / 1024, 1),
               "agent_pss_kib": round(pss / max(1, len(pids))),
               "fleet_threads": threads,
               "am_cpu_s_per_min": round(am_used * 60 / dt, 2),
               "am_rss_mib": [round(r / 1024, 1) for r in am_rss],
               "proxy_cpu_s_per_min": round(proxy_used * 60 / dt, 2)}
        log("%s: fleet %.2f CPU-s/min (%.3f of a core; agents %.2f, their exec commands %.2f), PSS %.0f MiB (%d KiB/agent), "
            "%d threads; Alertmanager %.2f CPU-s/min, RSS %s MiB; proxy %.2f CPU-s/min" % (
                label, fig["fleet_cpu_s_per_min"], fig["fleet_cpu_s_per_s"],
                fig["agents_own_cpu_s_per_min"], fig["exec_children_cpu_s_per_min"],
                fig["fleet_pss_mib"], fig["agent_pss_kib"], threads,
                fig["am_cpu_s_per_min"], fig["am_rss_mib"], fig["proxy_cpu_s_per_min"]))
        return fig

    def check_alerts(self, expect_problems=None):
        """Per replica: (active flag alerts, how many have the right labels)."""
        out = []
        for am in self.am:
            alerts = active_alerts(am) or {}
            right = 0
            for (inst, problem), lab in alerts.items():
                if (inst in self.host_set and lab.get("severity") == "critical"
                        and lab.get("vigil_role") == "cause" and problem):
                    right += 1
            out.append((len(alerts), right))
        return out

    def notifications(self, status):
        """{groupKey: count} of the webhook's notifications with `status`."""
        counts = collections.Counter()
        for body in self.hook.notifications():
            if body.get("status") == status:
                counts[body.get("groupKey")] += 1
        return counts

    def senders(self, status, groups=None):
        """{replica path: notifications with `status`}, of `groups` only if given."""
        counts = collections.Counter()
        for path, body in self.hook.notifications_by_path():
            if body.get("status") == status and (groups is None or body.get("groupKey") in groups):
                counts[path] += 1
        return dict(counts)

    def outage(self, mode, seconds):
        status, _ = get_post("http://127.0.0.1:%d/outage?mode=%s&seconds=%d" % (
            self.control, mode, seconds))
        return status == 200


GOSSIP_METRICS = ("alertmanager_cluster_messages_pruned_total",
                  "alertmanager_cluster_messages_queued",
                  "alertmanager_cluster_messages_sent_total",
                  "alertmanager_cluster_messages_received_total",
                  "alertmanager_notifications_total")


def gossip_metrics(am):
    """Alertmanager's own counters of its cluster gossip and notifications."""
    status, text = get(am.base + "/metrics")
    out = collections.Counter()
    if status == 200:
        for line in text.splitlines():
            name = line.split("{")[0].split(" ")[0]
            if name in GOSSIP_METRICS and not line.startswith("#"):
                if name == "alertmanager_notifications_total" and 'integration="webhook"' not in line:
                    continue
                out[name] += float(line.rsplit(" ", 1)[1])
    return dict(out)


def get_post(url):
    import urllib.request
    req = urllib.request.Request(url, data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, r.read()


def read_proxy_log(path, since):
    out = []
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if rec["t"] >= since:
                out.append(rec)
    return out


def openings(records, outage_start):
    """Each agent's incident opening as its outputs saw it: the first failed request
    of the outage, less the flush interval, in seconds from the outage's start."""
    first = {}
    for r in records:
        if r["status"] in (0, 503) and r["t"] >= outage_start and r["inst"]:
            t = r["t"] - outage_start - herd_sim.FLUSH
            first[r["inst"]] = min(t, first.get(r["inst"], t))
    return sorted(first.values())


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def analyse_outage(records, outage_start, recovery, n):
    """Arrivals after recovery: per (agent, replica) the first accepted request."""
    first = {}
    retries = collections.Counter()
    per_second = collections.Counter()
    per_second_first = collections.Counter()
    per_replica_first = [collections.Counter() for _ in range(REPLICAS)]
    for r in records:
        key = (r["inst"], r["r"])
        if r["t"] < recovery:
            if r["status"] in (0, 503) and r["t"] >= outage_start:
                retries[key] += 1
            continue
        if not 200 <= r["status"] < 300:
            continue
        per_second[int(r["t"] - recovery)] += 1
        if r["firing"] > 0 and key not in first:
            first[key] = r["t"] - recovery
            per_second_first[int(r["t"] - recovery)] += 1
            per_replica_first[r["r"]][int(r["t"] - recovery)] += 1
    delays = list(first.values())
    expected = n * REPLICAS
    return {
        "delivered": len(first), "expected": expected,
        "p50_s": round(pct(delays, 0.5), 1), "p99_s": round(pct(delays, 0.99), 1),
        "p100_s": round(max(delays), 1) if delays else None,
        "peak_first_per_s": max(per_second_first.values()) if per_second_first else 0,
        "peak_first_per_s_per_replica": max(max(c.values(), default=0)
                                             for c in per_replica_first),
        "peak_requests_per_s": max(per_second.values()) if per_second else 0,
        "retries_per_output": round(sum(retries.values()) / expected, 2),
        "retries_per_agent": round(sum(retries.values()) / n, 2),
        "delays": delays,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("n", type=int)
    ap.add_argument("--vigil", default=os.path.join(ROOT, "build", "vigil"))
    ap.add_argument("--outage", type=int, default=120, help="seconds")
    ap.add_argument("--mode", choices=("503", "drop"), default="503")
    ap.add_argument("--idle", type=int, default=60, help="seconds of each idle measurement")
    ap.add_argument("--exec-interval", default="60s")
    ap.add_argument("--pool", type=int, default=4, help="UV_THREADPOOL_SIZE of each agent")
    ap.add_argument("--skip-kill", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    if not INSTALLED:
        raise SystemExit(NOT_INSTALLED)
    fleet = Fleet(args)
    fleet.host_set = set(fleet.hosts)
    figures = {"n": args.n, "outage_s": args.outage, "mode": args.mode,
               "exec_interval": args.exec_interval, "load_at_start": os.getloadavg()}
    poller = None
    try:
        fleet.start_central()
        fleet.start_agents()
        figures["inotify"] = fleet.inotify_note
        time.sleep(10)  # start-up work settles (first collections, spool opens)
        figures["idle"] = fleet.footprint("idle, no incident", args.idle)

        # Every flag set: every alert on every replica, with its labels.
        t0 = time.monotonic()
        fleet.set_flags(True)
        want = [(args.n, args.n)] * REPLICAS
        wait_until(lambda: fleet.check_alerts() == want, 180, 1)
        got = fleet.check_alerts()
        figures["alerts"] = {"expected": args.n, "per_replica": got,
                             "seconds": round(time.monotonic() - t0, 1), "ok": got == want}
        log("flags set: active / right labels per replica %s of %d, after %.0f s" % (
            got, args.n, time.monotonic() - t0))
        wait_until(lambda: len(fleet.notifications("firing")) >= args.n, 120, 1)
        time.sleep(2 * PEER_TIMEOUT + 5)  # a replica that would notify again does so by now
        fire = fleet.notifications("firing")
        figures["notifications_first"] = {"groups": len(fire), "firing": sum(fire.values()),
                                          "by_replica": fleet.senders("firing")}
        log("webhook: %d firing notifications for %d groups" % (sum(fire.values()), len(fire)))
        figures["open"] = fleet.footprint("idle, %d open incidents" % args.n, args.idle)

        poller = Poller(fleet.am)
        poller.start()
        if not args.skip_kill:
            victim = REPLICAS - 1
            am = fleet.am[victim]
            log("killing replica %d (pid %d)" % (victim, am.proc.pid))
            am.stop()
            poller.forget(victim)
            time.sleep(20)
            am.start()
            poller.forget(victim)
            t0 = time.monotonic()
            back = wait_until(lambda: fleet.check_alerts()[victim] == (args.n, args.n), 150, 1)
            took = time.monotonic() - t0
            time.sleep(GROUP_WAIT + 2 * PEER_TIMEOUT + 10)
            fire = fleet.notifications("firing")
            figures["replica_restart"] = {
                "alerts_back": fleet.check_alerts(), "seconds": round(took, 1), "ok": bool(back),
                "firing_notifications": sum(fire.values()), "groups": len(fire),
                "duplicates": sum(c - 1 for c in fire.values()),
                "by_replica": fleet.senders("firing")}
            log("replica %d back with %s alerts after %.0f s; webhook: %d firing "
                "notifications for %d groups" % (victim, fleet.check_alerts()[victim], took,
                                                 sum(fire.values()), len(fire)))

        fleet.set_flags(False)
        gone = wait_until(lambda: all(a == 0 for a, _ in fleet.check_alerts()), 180, 1)
        log("flags cleared: alerts gone from every replica: %s" % bool(gone))
        time.sleep(GROUP_INTERVAL + 2 * PEER_TIMEOUT + 5)
        res = fleet.notifications("resolved")
        figures["resolved_notifications"] = {"groups": len(res), "resolved": sum(res.values()),
                                             "by_replica": fleet.senders("resolved")}
        log("webhook: %d resolved notifications for %d groups" % (sum(res.values()), len(res)))
        groups_before = set(fleet.notifications("firing"))

        # The outage: every flag set at its start, every agent retrying.
        outage_start = time.time()
        fleet.outage(args.mode, args.outage)
        time.sleep(1)
        fleet.set_flags(True)
        log("outage (%s) for %d s; flags set" % (args.mode, args.outage))
        time.sleep(max(0, outage_start + args.outage - time.time()))
        recovery = outage_start + args.outage
        log("recovered")
        t0 = time.monotonic()
        wait_until(lambda: fleet.check_alerts() == want, 60 + 10 + 60, 1)
        all_in = time.monotonic() - t0
        time.sleep(GROUP_WAIT + 2 * PEER_TIMEOUT + 5)
        time.sleep(1.0)  # the proxy writes its log every 0.5 s
        records = read_proxy_log(fleet.proxy_log, outage_start)
        result = analyse_outage(records, outage_start, recovery, args.n)
        delays = result.pop("delays")
        flaps, examples = poller.flap_count()
        fire = fleet.notifications("firing")
        new_groups = [g for g in fire if g not in groups_before]
        result.update({"alerts_after": fleet.check_alerts(), "all_active_after_s": round(all_in, 1),
                       "flaps": flaps, "flap_examples": examples,
                       "firing_notifications_new_groups": sum(fire[g] for g in new_groups),
                       "new_groups": len(new_groups),
                       "by_replica": fleet.senders("firing", set(new_groups))})
        figures["outage"] = result
        log("after the outage: %s" % json.dumps(result))
        interval = herd_sim.seconds(args.exec_interval)
        sim = herd_sim.simulate(args.n, outage=args.outage, exec_interval=interval,
                                outputs=REPLICAS, runs=5)
        figures["simulation"] = sim
        log("simulation of the same, exec phases uniform: %s" % json.dumps(sim))
        opened = openings(records, outage_start)
        sim = herd_sim.simulate(len(opened), outage=args.outage, exec_interval=interval,
                                outputs=REPLICAS, runs=5, opened=opened)
        figures["simulation_seen_openings"] = sim
        log("simulation of the same, from the openings seen (%.0f to %.0f s into the "
            "outage): %s" % (opened[0], opened[-1], json.dumps(sim)))
        with open(fleet.w.file("delays.json"), "w") as f:
            json.dump(delays, f)
        poller.enabled = False
        figures["gossip"] = [gossip_metrics(a) for a in fleet.am]
        log("gossip and notifications per replica: %s" % json.dumps(figures["gossip"]))
        figures["open_after"] = fleet.footprint("after the outage, %d open" % args.n, 30)
    finally:
        if poller is not None:
            poller.stop_event.set()
        fleet.stop()
        figures["load_at_end"] = os.getloadavg()
        if args.json:
            with open(args.json, "w") as f:
                json.dump(figures, f, indent=1)
        if args.keep:
            log("work folder kept: " + fleet.w.path)
        else:
            fleet.w.cleanup()
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
