#!/usr/bin/env bash
# Configures and builds one flavour of leakguard. Usage: scripts/build.sh [release|asan|fuzz]
# release -> build/ (the binary is build/leakguard), asan -> build-asan/, fuzz -> build-fuzz/ (clang).
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
jobs=$(nproc)
case "$flavour" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan)    dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DLEAKGUARD_SANITIZE=ON -DLEAKGUARD_BENCH=OFF) ;;
  fuzz)    dir=build-fuzz; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DLEAKGUARD_FUZZ=ON -DLEAKGUARD_TESTS=OFF
                                 -DLEAKGUARD_BENCH=OFF -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++) ;;
  *) echo "usage: $0 [release|asan|fuzz]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" "${args[@]}" > /dev/null
cmake --build "$dir" -j"$jobs"
