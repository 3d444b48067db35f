#!/usr/bin/env bash
# Installs every Debian 12 package that leakguard builds, tests and benchmarks with.
# Idempotent: packages already present are skipped, so a second run costs one dpkg query.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config
  libboost-dev libboost-system-dev libssl-dev openssl libyaml-cpp-dev nlohmann-json3-dev libsimdjson-dev
  node-llhttp libhyperscan-dev zlib1g-dev libbrotli-dev libmaxminddb-dev libnghttp2-dev libprotobuf-dev libpcap-dev
  libldns-dev
  # protoc: tests/data/protobuf/schema/make_sets.sh writes the descriptor-set fixtures with it
  protobuf-compiler
  # tests
  doctest-dev python3 python3-pytest python3-yaml curl iproute2 nftables
  libmaxmind-db-writer-perl clang libclang-rt-14-dev chromium
  # DNS forwarder tests (issue 17): dig
  dnsutils
  # HTTP/2 and gRPC tests (issue 14): h2 origins and hand-built frames, a gRPC server and client
  # (generic handlers on raw bytes: no protoc), nghttp and h2load (nghttp2-client)
  python3-h2 python3-hyperframe python3-hpack python3-grpcio python3-protobuf nghttp2-client
  # packet captures for `scan` (issue 17): tcpdump records them, editcap/mergecap (wireshark-common)
  # rewrite them as pcapng, tshark is the yardstick of bench/pcap_bench.sh
  tcpdump wireshark-common tshark
  # benchmarks
  libbenchmark-dev wrk nginx-light
  # (nginx-light has the http2 module, which bench/h2_bench.sh and the h2 tests use; mitmproxy is
  # the peer proxy in bench/h2_bench.sh. It pulls the security update of libbrotli1/libbrotli-dev,
  # the same 1.0.9 that leakguard builds against.)
  mitmproxy
  # Debian packages (scripts/package.sh) and the arm64 cross build under qemu-user (scripts/build.sh
  # arm64; its libraries are unpacked into a sysroot by scripts/arm64-sysroot.sh, not installed)
  debhelper lintian help2man bash-completion crossbuild-essential-arm64 qemu-user file binutils
)

# The browser-recorded HAR test (tests/integration/test_scan_har.py): playwright-core, pinned by
# tests/integration/browser/package-lock.json, drives Debian's chromium (no browser download). It
# needs the machine's node and npm; without them that one test skips.
browser_dir="$(dirname "$0")/../tests/integration/browser"
if command -v npm > /dev/null && [ ! -d "$browser_dir/node_modules/playwright-core" ]; then
  echo "install-deps: npm ci in tests/integration/browser (playwright-core)"
  npm ci --prefix "$browser_dir" --no-audit --no-fund > /dev/null ||
    echo "install-deps: npm ci failed (no registry?); the browser-recorded HAR test will skip" >&2
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run this script as root" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
