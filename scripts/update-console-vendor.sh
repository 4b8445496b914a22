#!/usr/bin/env bash
# Refreshes daemon/console/vendor/ from the npm registry: Chart.js (MIT) for the insights' charts and jsvectormap
# (MIT) with its world map (ISO 3166-1 alpha-2 regions) for the countries widget. Their dist files and licences are
# kept in the repository, so that a build (and the .deb) needs no network; the binary embeds them. Bump a version
# here, run this, review the diff, commit it, and rebuild.
set -euo pipefail
CHARTJS=4.5.1
JSVECTORMAP=1.7.0
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/daemon/console/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "chart.js@$CHARTJS" "jsvectormap@$JSVECTORMAP" >/dev/null
mkdir chartjs jsvectormap
tar xzf "chart.js-$CHARTJS.tgz" -C chartjs
tar xzf "jsvectormap-$JSVECTORMAP.tgz" -C jsvectormap
rm -rf "$out"
mkdir -p "$out"
cp chartjs/package/dist/chart.umd.min.js "$out/chart.umd.min.js"
cp chartjs/package/LICENSE.md "$out/chart.js.LICENSE.md"
cp jsvectormap/package/dist/jsvectormap.min.js "$out/jsvectormap.min.js"
cp jsvectormap/package/dist/jsvectormap.min.css "$out/jsvectormap.min.css"
cp jsvectormap/package/dist/maps/world.js "$out/world.js"
cp jsvectormap/package/LICENSE "$out/jsvectormap.LICENSE"
cat > "$out/VERSIONS" <<TXT
# From the npm registry by scripts/update-console-vendor.sh; do not edit these files by hand.
chart.js $CHARTJS (MIT): chart.umd.min.js, chart.js.LICENSE.md
jsvectormap $JSVECTORMAP (MIT): jsvectormap.min.js, jsvectormap.min.css, world.js, jsvectormap.LICENSE
TXT
echo "daemon/console/vendor/ refreshed: chart.js $CHARTJS, jsvectormap $JSVECTORMAP"
