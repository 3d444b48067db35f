#!/usr/bin/env bash
# Configures and builds one flavour of leakguard. Usage: scripts/build.sh [release|asan|arm64]
# release -> build/ (the binary is build/leakguard), asan -> build-asan/. The libFuzzer targets are
# built (clang, only the targets: the proxy's coroutines need g++) and run by scripts/fuzz.sh.
# arm64 -> build-arm64/: a cross build (crossbuild-essential-arm64) against the arm64 sysroot that
# scripts/arm64-sysroot.sh assembles in build-arm64/sysroot (Vectorscan instead of Hyperscan);
# build-arm64/leakguard-qemu runs the arm64 binary under qemu-user, and ctest does the same.
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
jobs=$(nproc)
# Debian's hardening flags for ARCH (stack protector, _FORTIFY_SOURCE, relro), as dpkg-buildpackage
# gives them to the package, and the package's install layout: the release and arm64 trees are
# what their packages ship (scripts/package.sh --prebuilt build, scripts/package-arm64.sh), so CI
# packages the very binary its tests ran. CMake reads the flags when it first configures a tree,
# so a tree configured without them (before release had them) is configured again from scratch.
debian_flags() {  # ARCH
  if [ -f "$dir/CMakeCache.txt" ] && ! grep -q '^CMAKE_CXX_FLAGS:STRING=.*-fstack-protector-strong' "$dir/CMakeCache.txt"; then
    rm -f "$dir/CMakeCache.txt"
  fi
  eval "$(DEB_HOST_ARCH=$1 DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"
  export CFLAGS="$CFLAGS $CPPFLAGS" CXXFLAGS="$CXXFLAGS $CPPFLAGS"  # CMake reads no CPPFLAGS
  args+=(-DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_SYSCONFDIR=/etc -DCMAKE_INSTALL_LOCALSTATEDIR=/var)
}
args=()
case "$flavour" in
  release) dir=build
           debian_flags "$(dpkg --print-architecture)"
           args+=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan)    dir=build-asan; args+=(-DCMAKE_BUILD_TYPE=Debug -DLEAKGUARD_SANITIZE=ON -DLEAKGUARD_BENCH=OFF) ;;
  arm64)   dir=build-arm64
           bash scripts/arm64-sysroot.sh "$dir/sysroot"
           debian_flags arm64
           args+=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DLEAKGUARD_BENCH=OFF
                 -DCMAKE_TOOLCHAIN_FILE="$PWD/packaging/aarch64-linux-gnu.toolchain.cmake"
                 -DLEAKGUARD_SYSROOT="$PWD/$dir/sysroot") ;;
  *) echo "usage: $0 [release|asan|arm64] (fuzz targets: scripts/fuzz.sh)" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" "${args[@]}" > /dev/null
cmake --build "$dir" -j"$jobs" ${BUILD_TARGETS:+--target $BUILD_TARGETS}
if [ "$flavour" = arm64 ]; then
  # The integration tests start LEAKGUARD_BIN directly: this runs the arm64 binary for them.
  printf '#!/bin/sh\nexec qemu-aarch64 -L "%s" "%s" "$@"\n' "$PWD/$dir/sysroot" "$PWD/$dir/leakguard" > "$dir/leakguard-qemu"
  chmod +x "$dir/leakguard-qemu"
fi
