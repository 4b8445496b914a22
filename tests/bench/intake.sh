#!/usr/bin/env bash
# A quick intake-only measurement: leadrelay (durable journal, 202 after the group commit) against nginx
# (1 worker, reads the body, answers 204) in one run, each pinned to core 0 with wrk on core 1.
#   tests/bench/intake.sh [seconds]     (needs: apt-get install wrk nginx-light; a Release build in build/release)
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-10}
bin=build/release/leadrelay
[ -x "$bin" ] || { cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DLEADRELAY_TESTS=OFF >/dev/null; cmake --build build/release --target leadrelay; }
work=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
openssl rand -hex 24 > "$work/s.secret"
cat > "$work/config.yaml" <<YAML
state_dir: ./state
server: {listen: ["127.0.0.1:18080"], max_connections: 1000}
logging: {level: warn}
sources:
  # replay_window 0s: wrk rotates 500 bodies, and every lead must take the full intake path (a journal row).
  - {name: bench, path: /leads, format: ms-marketplace, replay_window: 0s, auth: {secret_file: s.secret}}
YAML
cat > "$work/nginx.conf" <<NGINX
worker_processes 1; daemon off; pid $work/nginx.pid; error_log $work/nginx.err;
events { worker_connections 1024; }
http { access_log off; client_body_buffer_size 64k;
  server { listen 127.0.0.1:18082; location / { return 204; } }
}
NGINX
measure() {  # name pid url
  local out; out=$(taskset -c 1 wrk -t1 -c64 -d"${secs}s" --latency -s tests/bench/leads.lua "$3")
  local rps p50 p99 rss non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out"); rss=$(awk '/VmHWM/ {print $2}' /proc/"$2"/status)
  printf '%-22s %10s req/s  p50 %8s  p99 %8s  peak RSS %6s KiB  non-2xx %s\n' "$1" "$rps" "$p50" "$p99" "$rss" "${non2xx:-0}"
}
taskset -c 0 "$bin" run --config "$work/config.yaml" 2>"$work/leadrelay.log" & lr=$!
until curl -sf http://127.0.0.1:18080/healthz >/dev/null; do sleep 0.1; done
measure "leadrelay intake" $lr "http://127.0.0.1:18080/leads?code=$(cat "$work/s.secret")"
echo "leads stored: $(sqlite3 "$work/state/leadrelay.db" 'select count(*) from leads')"
kill -TERM $lr; wait $lr || true
taskset -c 0 nginx -c "$work/nginx.conf" & ng=$!
until curl -sf -o /dev/null http://127.0.0.1:18082/; do sleep 0.1; done
measure "nginx 204 (reads body)" $ng "http://127.0.0.1:18082/leads"
kill $ng; wait $ng 2>/dev/null || true
