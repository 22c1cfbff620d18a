"""Skipped log bytes: the vigil check's warning names the file, not only the check.

A log check that meets a line longer than max_line skips the rest and counts it in
log_bytes_skipped. An operator who reads the vigil check's message must learn
where the bytes were lost: the check and the file (a glob may cover many files).
"""

import os

import faults
from faults import harness


class LogLossNamesFile(faults.FaultTestCase):
    def test_warning_names_the_file_that_lost_bytes(self):
        logs = self.w.file("logs")
        os.makedirs(logs)
        quiet = os.path.join(logs, "quiet.log")
        noisy = os.path.join(logs, "noisy.log")
        for p in (quiet, noisy):
            with open(p, "w") as f:
                f.write("")
        config = self.w.write("agent.ini", (
            "[agent]\nstate_dir = %s\ninterval = 200ms\nheartbeat = 0\nstatus_listen = off\n"
            "[log app]\npath = %s/*.log\nmatch = ERROR\nmax_line = 1KiB\ninterval = 200ms\n")
            % (self.w.file("state"), logs))
        a = harness.Agent(self.w, config).start()
        self.agents.append(a)
        a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "app",
                      what="the log check's first event")
        with open(noisy, "a") as f:
            f.write("x" * 5000 + "\n")
        warning = a.wait_record(lambda r: r["kind"] == "event" and r["check"] == "vigil"
                                and r["state"] == "warning", what="the vigil check's warning")
        self.assertEqual(warning["metric"], "log_bytes_skipped")
        self.assertIn("check app", warning["message"])
        self.assertIn(noisy, warning["message"])
        self.assertNotIn(quiet, warning["message"])
        self.assertEqual(a.stop(), 0)


if __name__ == "__main__":
    faults.main()
