#!/usr/bin/env bash
# Builds the arm64 Debian package from the cross build (scripts/build.sh arm64 first) with the
# same debian/ as amd64: dh runs for host arm64 with configure and build skipped
# (LEAKGUARD_PREBUILT, see debian/rules: dpkg-buildpackage -aarm64 would need the :arm64 -dev
# packages installed, and libvectorscan-dev:arm64 conflicts with the installed libhyperscan-dev).
# dpkg-shlibdeps reads the sysroot's dpkg database; the man pages come from the arm64 binary under
# qemu-user. Usage: scripts/package-arm64.sh -> build-deb/leakguard_VERSION_arm64.deb
set -euo pipefail
cd "$(dirname "$0")/.."
out=$PWD/build-deb
prebuilt=$PWD/build-arm64
[ -x "$prebuilt/leakguard" ] || { echo "package-arm64: build first: scripts/build.sh arm64" >&2; exit 1; }
version=$(sed -n 's/^project(leakguard VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
src=$out/src-arm64/leakguard-$version
rm -rf "$out/src-arm64"
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard | grep -zv '^build' | xargs -0 cp --parents -t "$src"
(cd "$src" && DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" LEAKGUARD_PREBUILT="$prebuilt" LEAKGUARD_SYSROOT="$prebuilt/sysroot" \
   LEAKGUARD_RUNNER="qemu-aarch64 -L $prebuilt/sysroot" dpkg-architecture -aarm64 -c debian/rules binary-arch) >&2
mv "$out"/src-arm64/leakguard_"$version"_arm64.deb "$out"/
deb=$out/leakguard_${version}_arm64.deb
echo "== lintian (arm64)" >&2
lintian --fail-on error,warning "$deb" >&2
echo "build-deb/$(basename "$deb")"
