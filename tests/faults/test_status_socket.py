"""status_listen pointed at a unix socket path that belongs to someone else.

The status server unlinked whatever socket was at its path before binding: set
to another program's socket (a typo, a copied config, a shared /run folder), it
silently stole the path, and that program's clients reached vigil from then on.
Here: a live socket of another program is never taken (the agent refuses to
start and says why), a file that is not a socket is never touched, and the
agent's own leftover socket in state_dir is still replaced after a crash.
"""

import os
import socket
import threading

import faults
from faults import AgentTestCase, wait_for
from harness import Agent


class ForeignServer:
    """Another program's unix socket server: answers every client with one line."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(16)
        self.path = path
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.settimeout(10)
                    conn.recv(1024)  # the request, or b"" from a client that only probes
                    conn.sendall(b"foreign\n")
                except OSError:
                    pass

    def close(self):
        self.sock.close()


def ask(path):
    """What the server at `path` says first (b"" when it closes at once)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(path)
        s.sendall(b"GET /health HTTP/1.1\r\nHost: vigil\r\nConnection: close\r\n\r\n")
        return s.recv(64)


class StatusSocket(AgentTestCase):
    def start(self, listen):
        path = self.w.write("agent.ini", (
            "[agent]\nstate_dir = %s\ninterval = 200ms\nheartbeat = 0\n%s\n[load]\n") % (
                self.w.file("state"), "status_listen = " + listen if listen else ""))
        a = Agent(self.w, path).start()
        self.agents.append(a)
        return a

    def outcome(self, a):
        """The exit code if the agent gave up at start, else None once it runs."""
        def settled():
            if a.exited():
                return "exited"
            return "running" if "started:" in a.stderr() else None
        if wait_for(settled, 20, "the agent to start or give up") == "exited":
            return a.proc.returncode
        return None

    def test_a_socket_another_program_listens_on_is_never_taken(self):
        path = self.w.file("foreign.sock")
        server = ForeignServer(path)
        try:
            self.assertEqual(ask(path), b"foreign\n")
            inode = os.lstat(path).st_ino
            a = self.start("unix:" + path)
            code = self.outcome(a)
            # However the agent settles, the path still leads to its owner.
            self.assertEqual(os.lstat(path).st_ino, inode)
            self.assertEqual(ask(path), b"foreign\n")
            self.assertEqual(code, 1, "the agent must refuse to start:\n" + a.stderr())
            self.assertIn("status_listen unix:%s: another program listens on %s" % (path, path),
                          a.stderr())
        finally:
            server.close()

    def test_a_file_that_is_not_a_socket_is_refused_and_kept(self):
        path = self.w.write("notes.txt", "someone's notes\n")
        a = self.start("unix:" + path)
        self.assertEqual(self.outcome(a), 1, a.stderr())
        self.assertIn("%s exists and is a file, not a socket" % path, a.stderr())
        with open(path) as f:
            self.assertEqual(f.read(), "someone's notes\n")

    def test_the_agents_own_leftover_socket_in_state_dir_is_replaced_after_a_crash(self):
        a = self.start(None)
        sock = os.path.join(self.w.file("state"), "vigil.sock")
        self.assertIsNone(self.outcome(a), a.stderr())
        self.assertIn(b"200 OK", ask(sock))
        a.kill9()
        self.assertTrue(os.path.exists(sock), "a killed agent leaves its socket behind")
        b = self.start(None)
        self.assertIsNone(self.outcome(b), b.stderr())
        self.assertIn(b"200 OK", ask(sock))
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    faults.main()
