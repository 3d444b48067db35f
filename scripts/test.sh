#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a tested tree: installs the packages, builds the
# release and the ASan/UBSan flavours, runs the unit tests (ctest) and the integration tests
# (pytest, real binary, real sockets, network namespaces when root) on both, then every fuzz
# target for a bounded time. FUZZ_SECONDS (default 15) sets the time per fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

echo "== release build"
bash scripts/build.sh release
ctest --test-dir build --output-on-failure
/usr/bin/python3 -m pytest tests/integration -q -p no:cacheprovider

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
bash scripts/build.sh asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 LEAKGUARD_BIN="$PWD/build-asan/leakguard" \
  /usr/bin/python3 -m pytest tests/integration -q -p no:cacheprovider -m "not slow"

if [ -f scripts/fuzz.sh ]; then
  echo "== fuzzing (${FUZZ_SECONDS:-15}s per target)"
  FUZZ_SECONDS=${FUZZ_SECONDS:-15} bash scripts/fuzz.sh
fi
echo "== all test stages passed"
