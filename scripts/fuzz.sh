#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build/fuzz and runs each for SECONDS (default 60) on a
# copy of its kept corpus. A crash stops the run; copy the crashing input (crash-*) into tests/fuzz/corpus/<target>/
# so that it replays as a regression test in every build.
#   ./scripts/fuzz.sh [SECONDS] [TARGET ...]     (targets: all of them unless named)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
./scripts/install-deps.sh
dir=build/fuzz
CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLEADRELAY_FUZZ=ON >/dev/null
# Every target the build declares (tests/fuzz/CMakeLists.txt), so a new one is fuzzed without a second list here.
read -r -a targets <<<"$(sed -n 's/^set(LEADRELAY_FUZZ_TARGETS \(.*\))$/\1/p' tests/fuzz/CMakeLists.txt)"
if [ $# -gt 1 ]; then targets=("${@:2}"); fi
cmake --build "$dir" --target "${targets[@]/#/fuzz_}"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$PWD/tests/ubsan.supp"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp"
for t in "${targets[@]}"; do
  work="$dir/corpus/$t"
  mkdir -p "$work" "$dir/artifacts/$t"
  cp -n tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
  echo "fuzz: $t for ${seconds}s"
  "$dir/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$dir/artifacts/$t/" -print_final_stats=1 "$work" > "$dir/$t.log" 2>&1 ||
    { tail -n 60 "$dir/$t.log"; echo "fuzz: $t crashed; the input is in $dir/artifacts/$t/" >&2; exit 1; }
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+[[:space:]]+DONE" "$dir/$t.log" || true
done
echo "fuzz: all targets ran ${seconds}s without a crash"
