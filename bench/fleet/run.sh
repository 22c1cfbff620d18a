#!/bin/bash
# The fleet bench (docs/FLEET.md): N vigil agents, each with its own state_dir,
# host name host-NNNN, cpu/memory/load/disk checks and an exec check flipped by a
# flag file, and one alertmanager output per replica of a 3-replica Alertmanager
# cluster on loopback, through a recording proxy; a webhook receiver counts the
# notifications. It prints the fleet's CPU and PSS idle and with N open incidents,
# Alertmanager's CPU and RSS, the alerts active against those expected, what a
# replica killed and restarted changes, and the arrivals after an outage of the
# proxy beside what bench/fleet/herd_sim.py predicts for them.
#
#   bench/fleet/run.sh N [--outage SECONDS] [--mode 503|drop] [--idle SECONDS]
#                        [--exec-interval DURATION] [--pool THREADS] [--skip-kill]
#                        [--json FILE] [--keep] [--vigil BINARY]
#
# Never part of the test suite: it takes minutes and most of a machine. It ends
# exactly the processes it started, by their PIDs, and binds 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ $# -lt 1 ]]; then
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
if [[ ! -x build/vigil && " $* " != *" --vigil "* ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j2 --target vigil >/dev/null
fi
# Each agent holds a few descriptors per output and per check: N of them need
# more than the usual 1024 in this process.
hard=$(ulimit -Hn)
[[ $hard == unlimited || $hard -gt 65536 ]] && hard=65536
ulimit -n "$hard"
exec python3 bench/fleet/fleet.py "$@"
