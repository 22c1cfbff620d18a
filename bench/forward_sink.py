#!/usr/bin/env python3
"""A fast HTTPS sink for bench/forward: answers every POST with 200 and counts.

    forward_sink.py CERT KEY PORT_FILE

Listens on 127.0.0.1 (any free port, written to PORT_FILE), speaks HTTP/1.1 with
keep-alive, reads each body by Content-Length into a reused buffer without
parsing it, and answers `GET /stats` with {"requests": N, "bytes": body bytes
received}. One blocking thread per connection: Python's asyncio TLS transport
costs about 2 ms per 150 KB request, which made the sink, not vigil, the limit;
blocking `recv_into` on an SSL socket is several times faster.
"""

import json
import os
import socket
import ssl
import sys
import threading

stats = {"requests": 0, "bytes": 0}
lock = threading.Lock()


def serve(conn):
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    pending = b""
    try:
        while True:
            while b"\r\n\r\n" not in pending:
                n = conn.recv_into(buf)
                if n == 0:
                    return
                pending += bytes(view[:n])
            head, _, pending = pending.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            method = lines[0].split(b" ", 1)[0]
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            left = length - len(pending)
            pending = pending[length:] if left <= 0 else b""
            while left > 0:
                n = conn.recv_into(view[:min(left, len(buf))])
                if n == 0:
                    return
                left -= n
            if method == b"GET":
                with lock:
                    body = json.dumps(stats).encode()
            else:
                with lock:
                    stats["requests"] += 1
                    stats["bytes"] += length
                body = b"{}"
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    finally:
        conn.close()


def main(cert, key, port_file):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(port_file + ".tmp", port_file)
    while True:
        raw, _ = listener.accept()
        try:
            conn = context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            continue
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    try:
        main(*sys.argv[1:4])
    except KeyboardInterrupt:
        pass
