#!/usr/bin/env bash
# Builds leakguard's Debian package the Debian way (debian/: dh, cmake, debhelper-compat 13) from a
# clean copy of the tracked sources in build-deb/, so nothing of build/ is reused, and checks it
# with lintian. The unit tests are left out (nocheck): scripts/test.sh runs the project's suite.
# Usage: scripts/package.sh            -> build-deb/leakguard_VERSION_amd64.deb
# (the arm64 package is built from the cross build: scripts/build.sh arm64, then scripts/package-arm64.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
out=build-deb
version=$(sed -n 's/^project(leakguard VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
src=$out/src/leakguard-$version
rm -rf "$out/src"
mkdir -p "$src"
# Tracked files as they are in the work tree (uncommitted edits included), nothing else.
git ls-files -z --cached --others --exclude-standard | grep -zv '^build' | xargs -0 cp --parents -t "$src" 2>/dev/null || true
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
   dpkg-buildpackage -b -us -uc -Pnocheck) >&2
mv "$out"/src/leakguard_"$version"_amd64.deb "$out"/
rm -f "$out"/src/*.buildinfo "$out"/src/*.ddeb "$out"/src/*-dbgsym_*.deb "$out"/*.changes
deb=$(ls "$out"/leakguard_"$version"_amd64.deb)
echo "== lintian" >&2
lintian --fail-on error,warning "$deb" >&2
echo "$deb"
