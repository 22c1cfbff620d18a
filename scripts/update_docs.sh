#!/bin/bash
# Rewrites the docs rendered from the key tables in the code:
# docs/CONFIGURATION.md and the key table of every plugins/*/README.md (between
# its <!-- keys:begin --> and <!-- keys:end --> markers). The unit tests tagged
# [docs] fail while a committed file differs from what the code renders.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -d build ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build --target unit_tests
VIGIL_UPDATE_DOCS=1 build/tests/unit_tests '[docs]'
