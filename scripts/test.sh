#!/bin/bash
# Installs what is missing, builds, and runs every test: unit, end-to-end and
# fault tests on the Release build, the unit tests again under ASan+UBSan, the
# tests of what runs on two threads under ThreadSanitizer, and the style check.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
jobs=$(nproc)

echo "== Release build, unit and end-to-end tests"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")

echo "== ASan+UBSan build, unit tests"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVIGIL_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs" --target unit_tests
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j"$jobs")

echo "== ThreadSanitizer build: the tests of what runs on two threads"
# The spool is appended on the thread pool while the loop reads it; line sinks
# write on their own thread; state and offsets are saved on the pool.
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVIGIL_TSAN=ON >/dev/null
cmake --build build-tsan -j"$jobs" --target tsan_tests
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" build-tsan/tests/tsan_tests --order rand

echo "== style"
scripts/check_style.sh
