"""A client of the status server for tests: one HTTP request over `unix:PATH` or
`HOST:PORT`, and a strict parser of the Prometheus text format /metrics serves."""

import json
import re
import socket


def http_get(address, path, timeout=10.0, raw_request=None):
    """One request to `unix:PATH` or `HOST:PORT`: (status, headers, body text)."""
    if address.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target = address[5:]
    else:
        host, port = address.rsplit(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        target = (host, int(port))
    s.settimeout(timeout)
    try:
        s.connect(target)
        s.sendall(raw_request or
                  ("GET %s HTTP/1.1\r\nHost: vigil\r\nConnection: close\r\n\r\n" % path).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers and not (raw_request or b"").startswith(b"HEAD "):
        assert len(body) == int(headers["content-length"]), "body length != Content-Length"
    return status, headers, body.decode("utf-8")


def try_get(address, path, timeout=5.0):
    try:
        return http_get(address, path, timeout)
    except (OSError, IndexError, ValueError):
        return None


def get_json(address, path="/status"):
    status, headers, body = http_get(address, path)
    assert status == 200, (status, body)
    assert headers["content-type"].startswith("application/json"), headers
    return json.loads(body)


def unescape_label(v):
    out, i = [], 0
    while i < len(v):
        c = v[i]
        if c == "\\" and i + 1 < len(v):
            n = v[i + 1]
            out.append({"n": "\n", "\\": "\\", '"': '"'}.get(n, "\\" + n))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_value(text):
    specials = {"NaN": float("nan"), "+Inf": float("inf"), "-Inf": float("-inf")}
    return specials[text] if text in specials else float(text)


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$')
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')


def parse_metrics(text):
    """Prometheus text format 0.0.4 -> {family: {"help", "type", "samples": [(labels, v)]}}.

    Fails on any line that is not a comment, a blank or a well-formed sample, and on a
    sample whose family has no HELP and TYPE before it."""
    families = {}
    for n, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            families.setdefault(name, {"samples": []})["help"] = help_text
            continue
        if line.startswith("# TYPE "):
            name, _, typ = line[7:].partition(" ")
            assert typ in ("counter", "gauge", "untyped", "summary", "histogram"), line
            families.setdefault(name, {"samples": []})["type"] = typ
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, "line %d is not a sample: %r" % (n, line)
        name, label_text, value = m.group(1), m.group(2) or "", m.group(3)
        labels = {}
        pos = 0
        while pos < len(label_text):
            lm = LABEL.match(label_text, pos)
            assert lm, "line %d: bad labels %r" % (n, label_text)
            assert lm.group(1) not in labels, "line %d: repeated label" % n
            labels[lm.group(1)] = unescape_label(lm.group(2))
            pos = lm.end()
        family = families.get(name)
        assert family and "help" in family and "type" in family, \
            "line %d: sample of %s before its HELP and TYPE" % (n, name)
        family["samples"].append((labels, parse_value(value)))
    return families


def series(families, name, **labels):
    """Values of family `name` whose labels include `labels`."""
    return [v for l, v in families[name]["samples"]
            if all(l.get(k) == val for k, val in labels.items())]
