#!/usr/bin/env bash
# Redelivery detection with 1,000,000 keys in the window: key lookup+insert rates (dedup_bench), then the daemon's
# peak RSS while it serves leads on that store under wrk load.   tests/bench/dedup.sh   (needs wrk)
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/bench --target dedup_bench leadrelay >/dev/null
work=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
build/bench/tests/bench/dedup_bench --keys 1000000 --probe 100000 --dir "$work"
openssl rand -hex 24 > "$work/s.secret"
cat > "$work/config.yaml" <<YAML
state_dir: ./state
server: {listen: ["127.0.0.1:18083"]}
logging: {level: warn}
sources:
  - {name: bench, path: /leads, format: ms-marketplace, auth: {secret_file: s.secret}}
YAML
build/bench/leadrelay run --config "$work/config.yaml" 2>"$work/leadrelay.log" & pid=$!
until curl -sf http://127.0.0.1:18083/healthz >/dev/null; do sleep 0.1; done
wrk -t1 -c64 -d5s -s tests/bench/leads.lua "http://127.0.0.1:18083/leads?code=$(cat "$work/s.secret")" | grep -E "Requests/sec|Non-2xx" || true
echo "daemon peak RSS with 1,100,000 keys in the window: $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
kill -TERM $pid; wait $pid || true
