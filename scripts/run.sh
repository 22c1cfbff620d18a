#!/bin/bash
# Installs what is missing, builds vigil (Release) and runs it in the
# foreground with conf/vigil.ini: records are printed on stdout. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh >&2
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target vigil >&2
exec build/vigil run -c conf/vigil.ini "$@"
