#!/usr/bin/env bash
# Builds leadrelay and runs it on config.example.yaml. On a fresh Debian machine this installs what it needs.
#   ./scripts/run.sh                 build (Release) and run
#   CONFIG=/path/to/config.yaml ./scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DLEADRELAY_TESTS=OFF >/dev/null
cmake --build build/release --target leadrelay

config=${CONFIG:-config.example.yaml}
if [ "$config" = config.example.yaml ] && [ ! -s secrets/marketplace.secret ]; then
  # The example reads its source's secret from this file; make a strong one the first time.
  mkdir -p secrets && chmod 700 secrets
  (umask 077 && openssl rand -hex 24 > secrets/marketplace.secret)
  echo "run: created secrets/marketplace.secret"
fi
if [ "$config" = config.example.yaml ]; then
  echo "run: post leads to http://127.0.0.1:8080/leads/marketplace?code=$(cat secrets/marketplace.secret)"
fi
exec build/release/leadrelay run --config "$config"
