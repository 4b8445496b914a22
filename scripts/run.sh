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
if [ "$config" = config.example.yaml ]; then
  # The example reads its source's secret and the admin tokens from these files; make strong ones the first time.
  mkdir -p secrets && chmod 700 secrets
  for f in marketplace.secret operator.token referrals-admin.token viewer.token; do
    if [ ! -s "secrets/$f" ]; then
      (umask 077 && openssl rand -hex 24 > "secrets/$f")
      echo "run: created secrets/$f"
    fi
  done
  echo "run: post leads to http://127.0.0.1:8080/leads/marketplace?code=$(cat secrets/marketplace.secret)"
  echo "run: list them with: LEADRELAY_TOKEN=\$(cat secrets/viewer.token) build/release/leadrelay leads list --config config.example.yaml"
  echo "run: the web console is http://127.0.0.1:9464/console/ (sign in with the line in secrets/referrals-admin.token)"
fi
exec build/release/leadrelay run --config "$config"
