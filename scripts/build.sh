#!/usr/bin/env bash
# Configures and builds one flavour of leakguard. Usage: scripts/build.sh [release|asan]
# release -> build/ (the binary is build/leakguard), asan -> build-asan/. The libFuzzer targets are
# built (clang, only the targets: the proxy's coroutines need g++) and run by scripts/fuzz.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
jobs=$(nproc)
case "$flavour" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan)    dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DLEAKGUARD_SANITIZE=ON -DLEAKGUARD_BENCH=OFF) ;;
  *) echo "usage: $0 [release|asan] (fuzz targets: scripts/fuzz.sh)" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" "${args[@]}" > /dev/null
cmake --build "$dir" -j"$jobs"
