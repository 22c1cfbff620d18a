#!/usr/bin/env python3
"""An HTTP/HTTPS endpoint for tests: logs every request, answers as scripted.

    receiver.py --port 0 --log FILE --port-file PF [--tls-cert C --tls-key K]
                [--tls-client-ca CA] [--script SCRIPT] [--parent PID]

It listens on 127.0.0.1 (port 0 = any free port) and, once listening, writes the
port to PF atomically (a temp file renamed). Each request appends one JSON line to
FILE, flushed at once, before the reply is sent:

    {"path", "method", "headers": {name as sent: value}, "body", "status",
     "time": unix seconds, "peer_port": the client's TCP port}

"body" is the decoded JSON when the Content-Type says JSON (gunzipped first when
Content-Encoding is gzip), else text. "peer_port" tells connections apart: requests
on one kept-alive connection share it.

SCRIPT is a JSON file re-read at each request, so a test can change it while the
receiver runs. It holds one reply, or a list of replies used in order, the last one
repeating (a changed file starts its list again):

    {"status": 200, "retry_after": null or "2", "delay": 0 (seconds before the reply),
     "body": "...", "headers": {"Location": "..."}}

Without a script every request gets 200 and an empty JSON object. With --parent the
receiver exits when that process does, so a crashed test leaves nothing behind.
"""

import argparse
import gzip
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_REPLY = {"status": 200, "retry_after": None, "delay": 0, "body": "{}", "headers": {}}


class Script:
    """The reply for the next request, from a file re-read each time."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.text = None
        self.index = 0

    def next_reply(self):
        if not self.path:
            return dict(DEFAULT_REPLY)
        with self.lock:
            try:
                with open(self.path, encoding="utf-8") as f:
                    text = f.read()
            except OSError:
                return dict(DEFAULT_REPLY)
            if text != self.text:
                self.text = text
                self.index = 0
            try:
                script = json.loads(text)
            except ValueError:
                return dict(DEFAULT_REPLY)
            if isinstance(script, list):
                if not script:
                    return dict(DEFAULT_REPLY)
                entry = script[min(self.index, len(script) - 1)]
                self.index += 1
            else:
                entry = script
        reply = dict(DEFAULT_REPLY)
        if isinstance(entry, dict):
            reply.update(entry)
        return reply


class Log:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.file = open(path, "a", encoding="utf-8")

    def write(self, entry):
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self.lock:
            self.file.write(line)
            self.file.flush()


def decode_body(raw, headers):
    if headers.get("Content-Encoding", "").lower() == "gzip":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            return "<bad gzip: %s>" % e
    text = raw.decode("utf-8", errors="replace")
    if "json" in headers.get("Content-Type", "").lower():
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections alive between requests (every reply has a length).
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # the JSON log is the record; stderr stays quiet

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length", "0") or "0")
        return self.rfile.read(length) if length > 0 else b""

    def handle_any(self):
        raw = self.read_body()
        reply = self.server.script.next_reply()
        status = int(reply.get("status") or 200)
        self.server.log.write({
            "path": self.path,
            "method": self.command,
            "headers": {k: v for k, v in self.headers.items()},
            "body": decode_body(raw, self.headers),
            "status": status,
            "time": time.time(),
            "peer_port": self.client_address[1],
        })
        delay = float(reply.get("delay") or 0)
        if delay > 0:
            time.sleep(delay)
        body = reply.get("body")
        if body is None:
            body = ""
        if not isinstance(body, str):
            body = json.dumps(body)
        data = body.encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if reply.get("retry_after") is not None:
                self.send_header("Retry-After", str(reply["retry_after"]))
            for name, value in (reply.get("headers") or {}).items():
                self.send_header(name, str(value))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True  # the client gave up (a timeout): fine

    do_POST = do_PUT = do_GET = do_DELETE = do_PATCH = do_HEAD = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, tls_context, script, log):
        self.tls_context = tls_context
        self.script = script
        self.log = log
        super().__init__(address, Handler)

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, on the connection's own thread: done at
        # accept() it would let one silent client block every other.
        if self.tls_context is not None:
            try:
                request = self.tls_context.wrap_socket(request, server_side=True)
            except (OSError, ValueError):
                return  # a client that rejected our certificate, say
        try:
            Handler(request, client_address, self)
        finally:
            if self.tls_context is not None:
                try:
                    request.close()
                except OSError:
                    pass

    def handle_error(self, request, client_address):
        pass  # a reset connection is part of the tests, not news


def write_port_file(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % port)
    os.rename(tmp, path)


def watch_parent(pid):
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass
        if os.getppid() != pid:
            os._exit(0)
        time.sleep(0.5)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--tls-client-ca", help="require a client certificate signed by this CA")
    p.add_argument("--script")
    p.add_argument("--parent", type=int, help="exit when this process is gone")
    args = p.parse_args()

    context = None
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        if args.tls_client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(args.tls_client_ca)

    server = Server(("127.0.0.1", args.port), context, Script(args.script), Log(args.log))
    if args.parent:
        threading.Thread(target=watch_parent, args=(args.parent,), daemon=True).start()
    write_port_file(args.port_file, server.server_address[1])
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
