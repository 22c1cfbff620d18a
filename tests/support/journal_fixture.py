"""Real journal files for tests, written by systemd-journal-remote.

    journal = Journal(folder)                  # folder/system.journal, made at the first append
    journal.append([entry("disk full", unit="nginx.service", priority=3)])
    journal.replace([entry("after")])          # a new file (new seqnum id) renamed over it
    journal.read()                             # what journalctl reads back, as dicts

Entries go through the Journal Export Format (systemd.io/JOURNAL_EXPORT_FORMATS):
`KEY=value` lines and a blank line after every entry, the last one included
(without it journal-remote drops that entry: "Premature EOF"). A value holding a
newline, a control byte or bytes that are not UTF-8 is written in the binary form:
KEY, a newline, its length as a little-endian 64-bit integer, the bytes, a newline;
the journal keeps it as bytes (journalctl prints such a field as an array of
numbers). Every entry gets __REALTIME_TIMESTAMP, __MONOTONIC_TIMESTAMP and
_BOOT_ID, increasing from one entry to the next.

Running journal-remote again on the same file appends to it, and a reader that
polls sd_journal_get_fd() sees the append. Each file takes 8 MiB on disk; its name
must end in `.journal`.
"""

import json
import os
import shutil
import struct
import subprocess
import tempfile
import time

JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"
BOOT_ID = "6a3b0d1e5c4f47a9b2d8e0f1a2b3c4d5"


def available():
    return os.access(JOURNAL_REMOTE, os.X_OK) and shutil.which("journalctl") is not None


def entry(message, unit=None, priority=None, **fields):
    """One entry as (name, value) pairs; message may be bytes of any kind."""
    out = [("MESSAGE", message)]
    if unit is not None:
        out.append(("_SYSTEMD_UNIT", unit))
    if priority is not None:
        out.append(("PRIORITY", str(priority)))
    out.extend(fields.items())
    return out


def _needs_binary(value):
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return any(ord(c) < 32 and c != "\t" for c in text)


def export(entries, clock):
    """The Journal Export Format of entries; clock() gives (realtime, monotonic) usec."""
    out = bytearray()
    for fields in entries:
        realtime, monotonic = clock()
        stamped = [("__REALTIME_TIMESTAMP", str(realtime)),
                   ("__MONOTONIC_TIMESTAMP", str(monotonic)), ("_BOOT_ID", BOOT_ID)]
        for name, value in stamped + list(fields):
            if isinstance(value, str):
                value = value.encode("utf-8")
            if _needs_binary(value):
                out += name.encode() + b"\n" + struct.pack("<Q", len(value)) + value + b"\n"
            else:
                out += name.encode() + b"=" + value + b"\n"
        out += b"\n"
    return bytes(out)


class Journal:
    """One journal file in `folder`, written only through systemd-journal-remote."""

    def __init__(self, folder, name="system.journal"):
        assert name.endswith(".journal")
        self.folder = folder
        self.path = os.path.join(folder, name)
        os.makedirs(folder, exist_ok=True)
        self._realtime = int(time.time() * 1e6)
        self._monotonic = 1000000

    def _clock(self):
        self._realtime += 1000
        self._monotonic += 1000
        return self._realtime, self._monotonic

    def _write(self, target, entries):
        with tempfile.NamedTemporaryFile(suffix=".export") as f:
            f.write(export(entries, self._clock))
            f.flush()
            r = subprocess.run([JOURNAL_REMOTE, "-o", target, f.name], capture_output=True,
                               text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("systemd-journal-remote failed: %s" % r.stderr)

    def append(self, entries):
        """Appends entries to the file (creates it the first time)."""
        self._write(self.path, entries)

    def replace(self, entries):
        """A new journal file (a new seqnum id) with entries takes the file's name, as
        when a journal is deleted and written anew: renamed over it, in one step."""
        spare = tempfile.mkdtemp(prefix="journal-", dir=os.path.dirname(self.folder))
        try:
            made = os.path.join(spare, os.path.basename(self.path))
            self._write(made, entries)
            os.rename(made, self.path)
        finally:
            shutil.rmtree(spare, ignore_errors=True)

    def read(self):
        """The entries as journalctl reads them back (binary fields as lists of bytes)."""
        r = subprocess.run(["journalctl", "--file=" + self.path, "-o", "json", "--no-pager"],
                           capture_output=True, text=True, timeout=30, check=True)
        return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
