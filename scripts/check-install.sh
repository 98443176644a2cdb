#!/usr/bin/env bash
# Packs kdiag as npm would publish it, installs the tarball globally into a throw-away prefix and
# runs the installed command: proves `npm install -g kdiag-*.tgz` gives a working kdiag on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d "${TMPDIR:-/tmp}/kdiag-install.XXXXXX")
trap 'rm -rf "$work"' EXIT

# prepack runs a clean build, so the tarball never holds stale files from an older dist/.
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
echo "packed: $tarball ($(du -k "$work/$tarball" | cut -f1) KiB)"
npm install -g --silent --no-audit --no-fund --prefix "$work/prefix" "$work/$tarball"

kdiag="$work/prefix/bin/kdiag"
[ -x "$kdiag" ] || { echo "check-install: $kdiag is missing" >&2; exit 1; }
version=$("$kdiag" --version)
want=$(node -p 'require("./package.json").version')
[ "$version" = "$want" ] || { echo "check-install: kdiag --version says '$version', package.json '$want'" >&2; exit 1; }
echo "kdiag --version: $version"
# From another directory and through PATH, as a user would run it.
(cd / && PATH="$work/prefix/bin:$PATH" kdiag doctor --help | head -n 1)
probes=$(ls "$work/prefix/lib/node_modules/kdiag/probes/"*.bt | wc -l)
[ "$probes" -ge 1 ] || { echo "check-install: no probes installed" >&2; exit 1; }
echo "probes installed: $probes"
echo "check-install: ok"
