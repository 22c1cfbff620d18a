#!/usr/bin/env python3
"""Writes a syslog-like file for the log benchmarks: about 1% of its lines match
one of the 10 patterns bench/log_bench.cpp uses.

  bench/make_syslog.py PATH SIZE_MIB
"""
import random, sys
path, size = sys.argv[1], int(sys.argv[2]) << 20
random.seed(1)
progs = ['sshd[%d]', 'CRON[%d]', 'kernel', 'systemd[1]', 'nginx[%d]', 'postfix/smtpd[%d]']
normal = [
    'Accepted publickey for deploy from 10.0.%d.%d port %d ssh2: RSA SHA256:abcdef',
    'pam_unix(cron:session): session opened for user root by (uid=0)',
    'Started Session %d of user deploy.',
    'GET /api/v1/items/%d HTTP/1.1 200 512 "-" "curl/7.88.1"',
    'connect from unknown[10.1.%d.%d]',
    'EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null)',
    'level=info msg="container %d started" module=libcontainerd',
    'Received disconnect from 10.0.%d.%d port %d:11: disconnected by user',
]
bad = [
    'Failed password for invalid user admin from 10.9.%d.%d port %d ssh2',
    'segfault at %d ip 00007f sp 00007ffd error 4 in libc.so.6',
    'Out of memory: Killed process %d (java) total-vm:123kB',
    'error: upstream timed out (110: Connection timed out) while reading %d',
    'blk_update_request: I/O error, dev sda, sector %d op 0x0',
    '(root) CMD (run-parts /etc/cron.hourly) FAILED with %d',
    'Kernel panic - not syncing: Fatal exception %d',
    'pam_unix(sshd:auth): authentication failure; logname= uid=0 rhost=10.0.0.%d  user=root',
    'write failed: No space left on device (%d)',
    'recv() failed (104: Connection reset by peer) while reading response header %d',
]
# One block of about 64 MiB, repeated: generating 1 GiB line by line takes minutes.
block, n, i = [], 0, 0
while n < min(size, 64 << 20) - 200:
    i += 1
    prog = random.choice(progs)
    if '%d' in prog:
        prog = prog % random.randint(100, 99999)
    msg = random.choice(bad if random.random() < 0.01 else normal)
    msg = msg.replace('%d', str(random.randint(1, 65000)))
    line = 'Nov %2d %02d:%02d:%02d web-%02d %s: %s\n' % (
        1 + i // 86400 % 28, i // 3600 % 24, i // 60 % 60, i % 60, i % 17, prog, msg)
    block.append(line)
    n += len(line)
data = ''.join(block).encode()
with open(path, 'wb') as f:
    written = 0
    while written < size:
        part = data[:size - written]
        part = part[:part.rfind(b'\n') + 1]  # whole lines only
        if not part:
            break
        f.write(part)
        written += len(part)
