#!/usr/bin/env bash
# Builds libphonenumber with RE2's regular expressions into build/deps/phonenumber-re2 (a static library and its
# headers), from Debian's own source package of the libphonenumber-dev that install-deps.sh installs: the same
# version, Debian's patches and the same metadata, so the same verdicts; only the regular-expression engine differs,
# and the hash table that caches compiled expressions (scripts/patches/: each patch says why).
# Debian builds the package with ICU's, which costs a lead's phone check 20-30 µs (every match converts the number to
# UTF-16 and builds a matcher); with RE2 the same check takes a third to a half of that (tests/bench/validate_bench,
# BM_Phone). The build takes well under a minute on two cores (14 s here) and is done once per version and set of
# patches (a stamp file).
# CMakeLists.txt uses the result when it is there and Debian's library when it is not (LEADRELAY_PHONENUMBER_RE2=OFF
# chooses Debian's). Called by install-deps.sh; needs deb-src in apt's sources, which install-deps.sh adds.
#   scripts/build-phonenumber.sh [--check] [DEST]
# --check builds nothing: exit 0 if the build for the installed version is there, 1 if not.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
dest=$(realpath -m "${1:-build/deps/phonenumber-re2}")
version=$(dpkg-query -W -f='${Version}' libphonenumber-dev)
# The patches applied to Debian's source (scripts/patches/libphonenumber-*.patch), in name order; a changed patch
# makes a new stamp, so a machine built before it builds again.
patches=(scripts/patches/libphonenumber-*.patch)
stamp="$dest/built-$version-$(cat "${patches[@]}" | sha256sum | cut -c1-12)"
[ -f "$stamp" ] && exit 0
[ "$check" = 1 ] && exit 1

echo "build-phonenumber: building libphonenumber $version with RE2 into $dest"
patch_files=()
for p in "${patches[@]}"; do patch_files+=("$(realpath "$p")"); done
rm -rf "$dest"
mkdir -p "$dest/src"
cd "$dest/src"
# As root, apt downloads without its sandbox user (a warning, not an error).
apt-get source -qq "libphonenumber=$version" >apt-source.log 2>&1 || { cat apt-source.log >&2; exit 1; }
tree=$(find . -maxdepth 1 -type d -name 'libphonenumber-*' | head -1)
for p in "${patch_files[@]}"; do patch -s -d "$tree" -p1 <"$p"; done
# Debian's options (-DUSE_BOOST=OFF, metadata as shipped), with RE2 in place of ICU's regular expressions; only the
# library (no geocoder, no tests), position-independent so that it links into the daemon's PIE and the fuzz targets.
cmake -S "$tree/cpp" -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
  -DUSE_BOOST=OFF -DUSE_STDMUTEX=ON -DUSE_RE2=ON -DUSE_ICU_REGEXP=OFF -DBUILD_GEOCODER=OFF \
  -DREGENERATE_METADATA=OFF -DBUILD_TESTING=OFF >cmake.log 2>&1 || { cat cmake.log >&2; exit 1; }
cmake --build build --target phonenumber >build.log 2>&1 || { tail -40 build.log >&2; exit 1; }
mkdir -p "$dest/lib" "$dest/include"
cp build/libphonenumber.a "$dest/lib/"
# The public headers, and the generated protobuf ones (protoc writes them into the source tree).
(cd "$tree/cpp/src" && find phonenumbers -name '*.h' -exec cp --parents {} "$dest/include/" \;)
rm -rf "$dest/src"
touch "$stamp"
echo "build-phonenumber: done"
