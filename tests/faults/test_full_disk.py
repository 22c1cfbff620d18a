"""A full file system under state_dir: the agent keeps running and reports it.

state_dir is a small tmpfs with a [disk] check on it. Filling it used to crash the
agent at its next state save (ENOSPC was fatal), so its own disk alert never left
and every restart died the same way. Now the state and the spools write into space
reserved while the disk had room, the disk incident reaches every output, the
`vigil` check warns naming state_dir when something cannot be made durable, and
everything is durable again once space returns, without a restart.
"""

import json
import os
import urllib.request

import faults
import harness
from harness import Agent, events, wait_for
from receiver_harness import Receiver, free_port

faults.ensure_root_for_mounts()

INTERVAL = 0.3  # seconds: the disk check's and the vigil check's interval


class FullDisk(faults.FaultTestCase):
    def setUp(self):
        super().setUp()
        # One lane (spool_priority = off): a full disk gives up nothing stored. With
        # lanes the low lane would give way (test_priority_lane.py).
        self.fs = self.mount("state", "1m")
        self.rx = Receiver(self.w, self.certs).start()
        self.receivers.append(self.rx)
        self.port = free_port()
        self.cfg = self.w.write("agent.ini", (
            "[agent]\nstate_dir = %s\ninterval = 300ms\nheartbeat = 300ms\n"
            "status_listen = 127.0.0.1:%d\nshutdown_timeout = 2s\n"
            "[disk state]\npath = %s\ninterval = 300ms\n"
            "critical = used_percent > 90 clear 80\n"
            "[output stdout]\nurl = stdout\nflush_interval = 50ms\nspool_max = 256KiB\n"
            "spool_priority = off\n"
            "[output rx]\nurl = %s\nca_file = %s\nflush_interval = 50ms\nretry_max = 500ms\n"
            "spool_max = 256KiB\nspool_priority = off\n")
            % (self.fs.path, self.port, self.fs.path, self.rx.url(),
               self.ca_file()))

    def status(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/status" % self.port, timeout=2) as r:
            return json.load(r)

    def test_agent_reports_its_own_full_disk_and_recovers_without_restart(self):
        a = Agent(self.w, self.cfg).start()
        self.agents.append(a)
        a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "state"
                      and r["state"] == "ok", what="the disk check's first reading")
        self.rx.wait_record(lambda r: r["kind"] == "heartbeat", what="a first delivery")

        self.fs.fill()
        # The disk incident reaches every output within two intervals (plus the
        # flush and a request's round trip).
        deadline = 2 * INTERVAL + 3
        opened = lambda r: (r["kind"] == "incident" and r["check"] == "state"
                            and r["action"] == "open")
        a.wait_record(opened, timeout=deadline, what="the disk incident on stdout")
        self.rx.wait_record(opened, timeout=deadline, what="the disk incident at the endpoint")

        # Nothing made it stop: heartbeats keep coming to both outputs.
        seen = len([r for r in self.rx.records() if r["kind"] == "heartbeat"])
        self.rx.wait_record(lambda r: r["kind"] == "heartbeat" and
                            len([x for x in self.rx.records() if x["kind"] == "heartbeat"])
                            > seen + 3, what="heartbeats on the full disk")
        self.assertFalse(a.exited(), a.stderr())

        # Free the space: the vigil check is ok, nothing was lost or dropped.
        self.fs.free()
        a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "state"
                      and r["state"] == "ok" and r["previous_state"] == "critical",
                      what="the disk check back to ok")

        def healthy():
            s = self.status()
            out = {o["name"]: o for o in s["outputs"]}
            vigil = [c for c in s["checks"] if c["name"] == "vigil"][0]
            return (vigil["state"] == "ok" and
                    all(o.get("memory_records", 0) == 0 for o in out.values()) and s)
        s = wait_for(healthy, 20, "every record durable again")
        self.assertEqual(s["loss"], {"dropped": 0, "corrupt_frames": 0, "dead_lettered": 0,
                                     "log_bytes_skipped": 0})
        self.assertEqual(a.stop(), 0)

        # The state saved after space returned holds the disk check's state: a
        # restart announces no change of it.
        b = Agent(self.w, self.cfg, name="again").start()
        self.agents.append(b)
        b.wait_record(lambda r: r["kind"] == "heartbeat" and
                      len([x for x in b.records() if x["kind"] == "heartbeat"]) >= 4,
                      what="the restarted agent's fourth heartbeat (over 3 disk intervals)")
        self.assertEqual(b.stop(), 0)
        self.assertEqual(events(b.records(), "state"), [])

    def test_vigil_check_names_state_dir_while_its_state_cannot_be_saved(self):
        # Fill the disk before the agent has ever reserved anything: the state
        # cannot be saved at all, yet the agent runs and says where the problem is.
        self.fs.fill()
        a = Agent(self.w, self.cfg).start()
        self.agents.append(a)
        warning = a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "vigil"
                                and r["state"] == "warning", what="the vigil check's warning")
        self.assertIn("state_dir " + self.fs.path, warning["message"])
        self.assertIn("No space left on device", warning["message"])
        a.wait_record(lambda r: r["kind"] == "incident" and r["check"] == "state"
                      and r["action"] == "open", what="the disk incident on stdout")
        self.assertFalse(a.exited(), a.stderr())
        self.fs.free()
        a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "vigil"
                      and r["state"] == "ok", what="the vigil check ok once space returns")
        self.assertTrue(os.path.exists(os.path.join(self.fs.path, "state.0")) or
                        os.path.exists(os.path.join(self.fs.path, "state.1")))
        self.assertEqual(a.stop(), 0)
        self.assertEqual(events(a.records(), "vigil")[-1]["state"], "ok")


if __name__ == "__main__":
    harness.main()
