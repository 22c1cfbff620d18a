#!/bin/bash
# Installs what is missing, builds, and runs every test: the end-to-end and fault
# tests on the Release binary, the unit tests under ASan+UBSan, the tests of what
# runs on two threads under ThreadSanitizer, the sidecar image beside an
# application (as root), and the style check.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
jobs=$(nproc)

# Runs a Catch2 binary as two processes at once, each with every other test file,
# and shows the whole output of a half that fails. One process per test case, as
# ctest runs them, would start a sanitizer runtime 500 times. A half still running
# after 10 minutes (it takes under one) is ended with SIGTERM, on which Catch2
# names the test case it was in.
run_in_halves() {
  local bin=$1 log=$2 tags halves=("" "") pids=() i status=0
  mapfile -t tags < <("$bin" --list-tags -# | grep -o '\[#[^]]*\]')
  for i in "${!tags[@]}"; do
    halves[i % 2]+="${halves[i % 2]:+,}${tags[i]}"
  done
  for i in 0 1; do
    timeout 600 "$bin" -# --order rand "${halves[i]}" >"$log.$i" 2>&1 &
    pids+=($!)
  done
  for i in 0 1; do
    if wait "${pids[i]}"; then
      grep -E '^(All tests passed|test cases:)' "$log.$i" || true
    else
      cat "$log.$i"
      status=1
    fi
  done
  return $status
}

# As root, the sidecar image builds in the background, at the lowest priority,
# while the tests below leave a core idle; its own test runs at the end. Without
# root (buildah needs it here), or with VIGIL_IMAGE_TEST=0, it is skipped.
image_log=$(mktemp /tmp/vigil-image.XXXXXX.log)
image_pid=""
if [[ $(id -u) -eq 0 && "${VIGIL_IMAGE_TEST:-1}" != 0 ]]; then
  # A session of its own, so that the EXIT trap can end all of it; with the
  # kernel's autogroups a new session is also a new scheduling group, whose
  # weight is its autogroup nice value, not the processes' own.
  setsid bash -c 'echo 19 >/proc/self/autogroup 2>/dev/null; exec nice -n 19 "$@"' _ \
    scripts/image.sh localhost/vigil:test >"$image_log" 2>&1 &
  image_pid=$!
  trap 'kill -- -"$image_pid" 2>/dev/null || true' EXIT
fi

# Each stage says when it starts: seconds since the start, and CPU-seconds of the
# commands run so far (on a busy machine the second says more than the first).
cpu_log=$(mktemp /tmp/vigil-times.XXXXXX)
stage() {
  times >"$cpu_log"
  echo "== $* (at ${SECONDS} s, $(awk 'NR == 2 { gsub(/[ms]/, " "); print int($1 * 60 + $2 + $3 * 60 + $4) }' "$cpu_log") CPU-s)"
}

stage "Release build, end-to-end and fault tests"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
# Only the binaries they drive: the unit tests run once, under the sanitizers below,
# where a fault of theirs shows best.
cmake --build build -j"$jobs" --target vigil vigil-test
# A test that fails is run once more before it fails the run: the end-to-end tests
# time real processes on a machine that may be busy; the output shows every failure.
# Most of their time is spent waiting for the agent's timers, so more run at once
# than there are cores.
(cd build && ctest --output-on-failure -R '^(e2e|fault)\.' -j$((jobs * 2)) --repeat until-pass:2)

stage "ASan+UBSan build, unit tests"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVIGIL_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs" --target unit_tests
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  run_in_halves build-asan/tests/unit_tests build-asan/unit_tests.log

stage "ThreadSanitizer build: the tests of what runs on two threads"
# The spool is appended on the thread pool while the loop reads it; line sinks
# write on their own thread; state and offsets are saved on the pool.
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVIGIL_TSAN=ON >/dev/null
cmake --build build-tsan -j"$jobs" --target tsan_tests
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  run_in_halves build-tsan/tests/tsan_tests build-tsan/tsan_tests.log

stage "sidecar image: built from packaging/Dockerfile, run beside an application"
if [[ -n "$image_pid" ]]; then
  if ! wait "$image_pid"; then
    tail -n 60 "$image_log"
    exit 1
  fi
  trap - EXIT
  tail -n 1 "$image_log"
  python3 tests/image/test_sidecar.py --vigil build/vigil --source . --image localhost/vigil:test
else
  echo "skipped: not root, or VIGIL_IMAGE_TEST=0"
fi

stage "style"
scripts/check_style.sh
stage "done"
