#!/usr/bin/env bash
# Installs every Debian package that building, running and testing leadrelay needs.
# Safe to run again: apt-get skips what is already installed.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config
  # libraries (Boost 1.74 is Debian bookworm's default; libphonenumber-dev depends on it)
  libboost-dev libboost-system-dev rapidjson-dev libyaml-cpp-dev libsqlite3-dev libssl-dev librdkafka-dev libunistring-dev libsystemd-dev prometheus-cpp-dev
  # contact validation: IDN (libidn2), the Public Suffix List (libpsl + publicsuffix), async DNS (c-ares), phones
  libidn2-dev libpsl-dev publicsuffix libc-ares-dev libphonenumber-dev
  # libphonenumber again, from Debian's source package, built with RE2's regular expressions (build-phonenumber.sh)
  libre2-dev libabsl-dev libprotobuf-dev protobuf-compiler
  # notifications: mail over SMTP (libcurl), Mustache templates, time zones (ICU, which libphonenumber uses too)
  libcurl4-openssl-dev libkainjow-mustache-dev libicu-dev
  # the daemon's allocator: tcmalloc_minimal from gperftools
  libgoogle-perftools-dev
  # tests: GoogleTest, and Python for the integration tests that drive the real binary (YAML and JSON Schema to
  # check answers against schemas/admin-api.openapi.yaml)
  libgtest-dev libgmock-dev libbenchmark-dev python3 python3-yaml python3-jsonschema sqlite3 curl
  # a real SMTP server on loopback (STARTTLS, AUTH) for the notification tests
  python3-aiosmtpd
  # a real DNS server on loopback for the validation tests
  dnsmasq-base
  # clang and its runtime (libFuzzer, sanitizers) for the fuzz targets (scripts/fuzz.sh)
  clang libclang-rt-14-dev
  # systemd-analyze, to check the unit file; dpkg-dev and lintian, to build and check the Debian package
  systemd dpkg-dev lintian
  # an independent Kafka client, to read what leadrelay publishes
  kcat
  # the benchmark (tests/bench/load): the load generator and nginx, the HTTP ceiling it is compared with
  wrk nginx-light
  # the console's browser test: Debian's headless Chromium (driven by playwright-core from npm), fonts for stable
  # screenshots, and pdftotext to read back the PDF the insights page prints
  chromium fonts-liberation poppler-utils
)
# ... and Node.js for the hand-written peer of the benchmark, unless a Node.js with npm is already installed
# (NodeSource's nodejs package carries npm and conflicts with Debian's).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then packages+=(nodejs npm); fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  sudo=(sudo)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# libphonenumber built with RE2 (scripts/build-phonenumber.sh) needs Debian's source packages: deb-src entries for
# the archive apt already uses (the same mirrors and suites), added once.
here=$(dirname "$0")
if ! "$here/build-phonenumber.sh" --check; then
  # A failure anywhere below leaves Debian's library in use (CMake's fallback): the same verdicts, slower phone
  # checks. So no step here may end the script.
  if ! apt-get source --print-uris -qq libphonenumber >/dev/null 2>&1; then
    echo "install-deps: adding deb-src entries (/etc/apt/sources.list.d/leadrelay-deb-src.sources)"
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
      sed -E 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources
    else
      printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\n'
      printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    fi | "${sudo[@]}" tee /etc/apt/sources.list.d/leadrelay-deb-src.sources >/dev/null ||
      echo "install-deps: warning: could not add the deb-src entries" >&2
    "${sudo[@]}" apt-get update -qq || true
  fi
  "$here/build-phonenumber.sh" ||
    echo "install-deps: warning: libphonenumber with RE2 could not be built; Debian's is used (slower phone checks)" >&2
fi
