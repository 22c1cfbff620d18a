#!/bin/bash
# House rules that a compiler does not check.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
# Plugins may include only the plugin API and utilities. Their unit tests
# (plugins/NAME/*_test.cpp) may also use the core's services to drive them.
if grep -rnE --exclude='*_test.cpp' '#include "agent/' plugins |
    grep -vE '#include "agent/(plugin|util)/'; then
  echo "plugins/ may include only agent/plugin/ and agent/util/ (tests excepted)" >&2
  status=1
fi
# main.cpp stays thin.
if (( $(grep -c . agent/main.cpp) > 5 )); then
  echo "agent/main.cpp must stay thin" >&2
  status=1
fi
# Formatting follows .clang-format.
if command -v clang-format >/dev/null; then
  files=$(git ls-files '*.cpp' '*.h' 2>/dev/null || find agent plugins tests bench -name '*.cpp' -o -name '*.h')
  if ! clang-format --dry-run --Werror $files 2>/dev/null; then
    echo "files are not formatted with clang-format (run: clang-format -i FILES)" >&2
    clang-format --dry-run --Werror $files 2>&1 | grep -E '^[^ ].*(warning|error)' | cut -d: -f1 | sort -u >&2 || true
    status=1
  fi
fi
if (( status == 0 )); then
  echo "style: 1 passed, 0 failed"
else
  echo "style: 0 passed, 1 failed"
fi
exit $status
