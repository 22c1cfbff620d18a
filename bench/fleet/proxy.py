#!/usr/bin/env python3
"""The fleet bench's recording proxy: one loopback port per Alertmanager replica,
forwarding each HTTP/1.1 request to its replica over a connection of its own
(keep-alive on both sides), and stamping every POST in a JSON-lines log:

  {"t": UNIX_TIME, "r": REPLICA, "inst": INSTANCE, "n": ALERTS, "firing": F,
   "status": HTTP_STATUS}

`inst` is the `instance` label of the request's first alert (the agent's host
name), `firing` the number of its alerts whose endsAt is in the future, `status`
what the agent got (0: the connection was dropped).

An outage is started through the control port: `POST /outage?mode=503&seconds=T`
answers every request with 503 for T seconds; `mode=drop` closes every connection
(and each new request's) without a reply. `GET /ready` answers 200. An upstream
that refuses (a replica being restarted) makes a 502.

  proxy.py LOG CONTROL_PORT LISTEN_PORT:UPSTREAM_PORT [...]
"""

import asyncio
import datetime
import json
import sys
import time
import urllib.parse

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024


class Outage:
    def __init__(self):
        self.mode = None
        self.until = 0.0

    def now(self):
        if self.mode and time.time() < self.until:
            return self.mode
        self.mode = None
        return None


OUTAGE = Outage()
LOG = []  # lines not yet written
CONNECTIONS = set()  # client writers, closed when a drop outage starts


async def read_message(reader, writer=None):
    """One HTTP/1.1 message: (first line, headers as a list, body, headers by
    lower-case name); None at EOF. A request's `Expect: 100-continue` is answered
    through `writer` before its body is read."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    except asyncio.LimitOverrunError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    first, headers = lines[0], []
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers.append((k.strip(), v.strip()))
    lower = {k.lower(): v for k, v in headers}
    body = b""
    if writer is not None and lower.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
    if lower.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(chunks)
        headers = [(k, v) for k, v in headers if k.lower() != "transfer-encoding"]
        headers.append(("Content-Length", str(len(body))))
    elif "content-length" in lower:
        n = int(lower["content-length"])
        if n > MAX_BODY:
            return None
        body = await reader.readexactly(n)
    return first, headers, body, lower


def stamp(replica, body, status):
    inst, n, firing = "", 0, 0
    try:
        alerts = json.loads(body)
        n = len(alerts)
        now = datetime.datetime.now(datetime.timezone.utc).isoformat()
        for a in alerts:
            inst = inst or a.get("labels", {}).get("instance", "")
            # RFC 3339 in UTC compares as text down to the second.
            if a.get("endsAt", "")[:19] > now[:19]:
                firing += 1
    except (ValueError, AttributeError, TypeError):
        pass
    LOG.append(json.dumps({"t": time.time(), "r": replica, "inst": inst, "n": n,
                           "firing": firing, "status": status}))


def reply(writer, status, text, body=b""):
    writer.write(("HTTP/1.1 %d %s\r\nContent-Length: %d\r\nConnection: keep-alive\r\n\r\n"
                  % (status, text, len(body))).encode() + body)


async def forward(up, first, headers, body):
    """Sends one request over an upstream connection; its answer, or None."""
    out = [first] + ["%s: %s" % (k, v) for k, v in headers
                     if k.lower() not in ("expect", "connection")]
    out.append("Connection: keep-alive")
    up[1].write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)
    try:
        await up[1].drain()
        return await read_message(up[0])
    except (ConnectionError, asyncio.IncompleteReadError):
        return None


async def serve(replica, upstream_port, reader, writer):
    CONNECTIONS.add(writer)
    up = None
    try:
        while True:
            msg = await read_message(reader, writer)
            if msg is None:
                return
            first, headers, body, _ = msg
            is_post = first.startswith("POST ")
            mode = OUTAGE.now()
            if mode == "drop":
                if is_post:
                    stamp(replica, body, 0)
                return
            if mode == "503":
                if is_post:
                    stamp(replica, body, 503)
                reply(writer, 503, "Service Unavailable")
                await writer.drain()
                continue
            answer = None
            # A kept-alive upstream connection may have died with its replica: one
            # more try on a new connection, as any proxy does.
            for _ in range(2):
                fresh = up is None
                if fresh:
                    try:
                        up = await asyncio.open_connection("127.0.0.1", upstream_port)
                    except OSError:
                        break
                answer = await forward(up, first, headers, body)
                if answer is not None:
                    break
                up[1].close()
                up = None
                if fresh:
                    break
            if answer is None:
                if is_post:
                    stamp(replica, body, 502)
                reply(writer, 502, "Bad Gateway")
            else:
                afirst, aheaders, abody, _ = answer
                status = int(afirst.split(" ")[1])
                if is_post:
                    stamp(replica, body, status)
                lines = [afirst] + ["%s: %s" % (k, v) for k, v in aheaders
                                    if k.lower() != "connection"]
                lines.append("Connection: keep-alive")
                writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + abody)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        CONNECTIONS.discard(writer)
        writer.close()
        if up is not None:
            up[1].close()


async def control(reader, writer):
    msg = await read_message(reader)
    if msg is not None:
        first = msg[0].split(" ")
        url = urllib.parse.urlsplit(first[1])
        q = urllib.parse.parse_qs(url.query)
        if first[0] == "POST" and url.path == "/outage":
            OUTAGE.mode = q["mode"][0]
            OUTAGE.until = time.time() + float(q["seconds"][0])
            if OUTAGE.mode == "drop":
                for w in list(CONNECTIONS):
                    w.close()
        reply(writer, 200, "OK", b"ok\n")
        await writer.drain()
    writer.close()


async def flush_log(path):
    with open(path, "a") as f:
        while True:
            await asyncio.sleep(0.5)
            if LOG:
                lines = LOG[:]
                del LOG[:len(lines)]
                f.write("\n".join(lines) + "\n")
                f.flush()


async def main():
    log_path, control_port = sys.argv[1], int(sys.argv[2])
    servers = [await asyncio.start_server(control, "127.0.0.1", control_port)]
    for replica, pair in enumerate(sys.argv[3:]):
        listen, upstream = (int(p) for p in pair.split(":"))
        servers.append(await asyncio.start_server(
            lambda r, w, i=replica, u=upstream: serve(i, u, r, w), "127.0.0.1", listen,
            backlog=4096, limit=MAX_HEAD))
    await flush_log(log_path)


if __name__ == "__main__":
    asyncio.run(main())
