#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a tested tree: installs the packages, builds the
# release and the ASan/UBSan flavours, runs the unit tests (ctest) and the integration tests
# (pytest, real binary, real sockets, network namespaces when root) on both, then every fuzz
# target for a bounded time. FUZZ_SECONDS (default 15) sets the time per fuzz target.
# Then the Debian package: made from the release tree (scripts/package.sh --prebuilt build, lintian),
# installed into a temporary root, removed and purged (test_package.py); and arm64: the cross
# build, its unit tests and a subset of the integration tests under qemu-user, scan findings
# compared with amd64, the arm64 package.
# ARM64=0 skips the arm64 stage.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each stage's wall time, printed as it ends and again at the end: CI's whole run should stay
# under 40 minutes, and this says where the time goes when it does not.
stage_times=()
stage_name="" stage_start=$SECONDS
stage() {  # NAME: ends the current stage, starts the next ("" ends the last)
  if [ -n "$stage_name" ]; then
    stage_times+=("$(printf '%5d s  %s' $((SECONDS - stage_start)) "$stage_name")")
    echo "== $stage_name: $((SECONDS - stage_start)) s"
  fi
  stage_name=$1 stage_start=$SECONDS
  [ -z "$1" ] || echo "== $1"
}
stage "install the build and test packages"
bash scripts/install-deps.sh

stage "release build"
bash scripts/build.sh release
stage "release: unit and integration tests"
ctest --test-dir build --output-on-failure
# The h2 tests skip only when the binary does not intercept h2: here it must.
LEAKGUARD_REQUIRE_H2=1 /usr/bin/python3 -m pytest tests/integration -q -p no:cacheprovider

stage "AddressSanitizer + UndefinedBehaviorSanitizer build"
bash scripts/build.sh asan
stage "ASan + UBSan: unit and integration tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 LEAKGUARD_BIN="$PWD/build-asan/leakguard" \
  /usr/bin/python3 -m pytest tests/integration -q -p no:cacheprovider -m "not slow"

stage "Debian package (amd64)"
# From the release tree the tests above ran on (its flags and layout are the package's): the
# package ships the binary that was tested, and a third compile of the tree is saved.
deb=$(bash scripts/package.sh --prebuilt build)
LEAKGUARD_DEB="$PWD/$deb" /usr/bin/python3 -m pytest tests/integration/test_package.py -q -p no:cacheprovider

if [ "${ARM64:-1}" != 0 ]; then
  stage "arm64: cross build, tests under qemu-user, package"
  bash scripts/build.sh arm64
  # Every unit test, through CMAKE_CROSSCOMPILING_EMULATOR (qemu-aarch64 -L sysroot): ~16 s.
  ctest --test-dir build-arm64 --output-on-failure
  # A representative subset through the arm64 binary: version, explicit proxy, a leak blocked,
  # scan over the corpus identical to amd64 (the whole suite under emulation would double CI time).
  LEAKGUARD_BIN="$PWD/build-arm64/leakguard-qemu" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
    tests/integration/test_arm64.py \
    tests/integration/test_proxy_http.py::test_explicit_get_and_post_in_absolute_form \
    tests/integration/test_proxy_http.py::test_connect_tunnel \
    tests/integration/test_policy.py::test_block_mode_stops_a_leak_before_the_origin_sees_a_byte \
    tests/integration/test_policy.py::test_raw_tcp_leak_is_closed_before_a_byte_is_forwarded \
    tests/integration/test_scan.py tests/integration/test_check_config.py
  bash scripts/package-arm64.sh
fi

if [ -f scripts/fuzz.sh ]; then
  stage "fuzzing (${FUZZ_SECONDS:-15}s per target)"
  FUZZ_SECONDS=${FUZZ_SECONDS:-15} bash scripts/fuzz.sh
fi
stage ""
printf '%s\n' "${stage_times[@]}"
echo "== all test stages passed in $SECONDS s"
