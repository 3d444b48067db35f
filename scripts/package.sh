#!/usr/bin/env bash
# Builds leakguard's Debian package the Debian way (debian/: dh, cmake, debhelper-compat 13) from a
# clean copy of the tracked sources in build-deb/ (nothing of build/ is reused unless --prebuilt
# says so), and checks it with lintian. The unit tests are left out (nocheck): scripts/test.sh
# runs the project's suite.
# Usage: scripts/package.sh            -> build-deb/leakguard_VERSION_amd64.deb
#        scripts/package.sh --prebuilt build
#            the same package from the release tree (scripts/build.sh release configures it with the
#            package's flags and layout) instead of a second compile: CI ships the binary it tested
# (the arm64 package is built from the cross build: scripts/build.sh arm64, then scripts/package-arm64.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
prebuilt=""
if [ "${1:-}" = --prebuilt ]; then
  prebuilt=$(realpath "${2:?usage: scripts/package.sh [--prebuilt BUILD_DIR]}")
  cache=$prebuilt/CMakeCache.txt
  # A tree configured before scripts/build.sh gave release the package's flags would ship an
  # unhardened binary to /usr/local: refuse it.
  if ! grep -q '^CMAKE_CXX_FLAGS:STRING=.*-fstack-protector-strong' "$cache" 2>/dev/null ||
     ! grep -q '^CMAKE_INSTALL_PREFIX:PATH=/usr$' "$cache" || [ ! -x "$prebuilt/leakguard" ]; then
    echo "package.sh: $prebuilt is no release tree built with the package's flags and layout;" \
         "remove it and run scripts/build.sh release" >&2
    exit 1
  fi
fi
out=build-deb
version=$(sed -n 's/^project(leakguard VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
src=$out/src/leakguard-$version
rm -rf "$out/src"
mkdir -p "$src"
# Tracked files as they are in the work tree (uncommitted edits included), nothing else.
git ls-files -z --cached --others --exclude-standard | grep -zv '^build' | xargs -0 cp --parents -t "$src" 2>/dev/null || true
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
   env ${prebuilt:+"LEAKGUARD_PREBUILT=$prebuilt"} dpkg-buildpackage -b -us -uc -Pnocheck) >&2
mv "$out"/src/leakguard_"$version"_amd64.deb "$out"/
rm -f "$out"/src/*.buildinfo "$out"/src/*.ddeb "$out"/src/*-dbgsym_*.deb "$out"/*.changes
deb=$(ls "$out"/leakguard_"$version"_amd64.deb)
echo "== lintian" >&2
lintian --fail-on error,warning "$deb" >&2
echo "$deb"
