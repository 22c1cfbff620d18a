#!/usr/bin/env python3
"""A fast HTTPS sink for bench/forward: answers every POST with 200 and counts.

    forward_sink.py CERT KEY PORT_FILE

Listens on 127.0.0.1 (any free port, written to PORT_FILE), speaks HTTP/1.1 with
keep-alive, reads each body by Content-Length without parsing it, and answers
`GET /stats` with {"requests": N, "bytes": body bytes received}. asyncio with one
buffered reader per connection: it does a few hundred large POSTs a second on one
core, well ahead of one output's serial batches.
"""

import asyncio
import json
import os
import ssl
import sys

stats = {"requests": 0, "bytes": 0}


async def serve(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            method = lines[0].split(b" ", 1)[0]
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            if method == b"GET":
                body = json.dumps(stats).encode()
            else:
                stats["requests"] += 1
                stats["bytes"] += length
                body = b"{}"
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def main(cert, key, port_file):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context,
                                        limit=1 << 22)
    port = server.sockets[0].getsockname()[1]
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(port_file + ".tmp", port_file)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main(*sys.argv[1:4]))
    except KeyboardInterrupt:
        pass
