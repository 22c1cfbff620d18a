"""Exec checks inherit nothing of the agent: no socket, no pipe, no file.

libcurl 7.88 opens its sockets and the multi handle's wake-up socketpair without
close-on-exec, and libuv's uv_spawn closes nothing but what it dups onto 0, 1 and
2. A command run by an exec check then held the agent's live TLS connection to
its endpoint (and could write into it, or keep it open after the agent closed
it). The check here lists the descriptors of a command while the agent holds a
kept-alive HTTPS connection: only 0, 1, 2 and the listing's own folder may be
there.
"""

import os
import re

import faults
from faults import wait_for
from harness import Agent
from receiver_harness import Receiver

# `ls -l` prints "NAME -> TARGET" for each entry of /proc/self/fd.
ENTRY = re.compile(r"\s(\d+) -> (.*)$")


def descriptors(listing):
    """{fd: target} of one `ls -l /proc/self/fd` listing."""
    out = {}
    for line in listing.splitlines():
        m = ENTRY.search(line)
        if m:
            out[int(m.group(1))] = m.group(2)
    return out


class ExecDescriptors(faults.FaultTestCase):
    def test_a_command_sees_only_its_stdio_while_the_agent_holds_a_connection(self):
        rx = Receiver(self.w, self.certs)
        self.receivers.append(rx)
        rx.start()
        listings = self.w.file("listings")
        os.makedirs(listings)
        # Each run writes its listing to a new file, renamed into place whole.
        script = self.w.write("list_fds", (
            "#!/bin/sh\n"
            "f=$(mktemp %s/.run.XXXXXX)\n"
            "ls -l /proc/self/fd > \"$f\" 2>&1\n"
            "mv \"$f\" \"$f.done\"\n"
            "echo listed\n") % listings, mode=0o755)
        config = self.w.write("agent.ini", (
            "[agent]\nstate_dir = %s\nheartbeat = 200ms\ninterval = 200ms\n"
            "[output rx]\nurl = %s\nca_file = %s\nflush_interval = 100ms\n"
            "[exec fds]\ncommand = %s\ninterval = 200ms\n") % (
                self.w.file("state"), rx.url(), self.ca_file(), script))
        agent = Agent(self.w, config).start()
        self.agents.append(agent)

        # The agent's connection to the receiver is up (and kept alive: heartbeats
        # follow every 200 ms on it) before the listings that count are taken.
        rx.wait_record(lambda r: r["kind"] == "heartbeat", what="a first heartbeat")
        before = set(os.listdir(listings))

        def new_listings():
            fresh = [n for n in os.listdir(listings) if n.endswith(".done") and n not in before]
            return fresh if len(fresh) >= 3 else None
        fresh = wait_for(new_listings, 20, "three listings after the first delivery")
        self.assertGreater(len(rx.requests()), 1, "the connection carried more requests")

        for name in fresh:
            with open(os.path.join(listings, name)) as f:
                listing = f.read()
            fds = descriptors(listing)
            self.assertTrue({0, 1, 2} <= set(fds), listing)
            extra = {fd: target for fd, target in fds.items()
                     if fd > 2 and not re.fullmatch(r"/proc/\d+/fd", target)}
            self.assertEqual(extra, {}, "the command inherited descriptors:\n" + listing)
        self.assertFalse(agent.exited(), agent.stderr())
        self.assertEqual(agent.stop(), 0)


if __name__ == "__main__":
    faults.main()
