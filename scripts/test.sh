#!/usr/bin/env bash
# Builds leadrelay and runs every test (unit and integration). On a fresh Debian machine this installs what it needs.
#   ./scripts/test.sh                  RelWithDebInfo build in build/test
#   SANITIZE=1 ./scripts/test.sh       AddressSanitizer + UndefinedBehaviorSanitizer build in build/asan
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
if [ "${SANITIZE:-0}" = 1 ]; then
  dir=build/asan
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLEADRELAY_SANITIZE=ON >/dev/null
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp"
else
  dir=build/test
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$dir"
# The console's browser test drives Debian's chromium with playwright-core, pinned in tests/console/package-lock.json.
(cd tests/console && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
ctest --test-dir "$dir" --output-on-failure -j "$(nproc)"
# The fault suite's figure lines (one per fault), so they show in CI's log too.
grep -ho "fault ([a-f]).*" "$dir/Testing/Temporary/LastTest.log" || true
