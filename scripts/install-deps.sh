#!/usr/bin/env bash
# Installs every Debian 12 package that leakguard builds, tests and benchmarks with.
# Idempotent: packages already present are skipped, so a second run costs one dpkg query.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config
  libboost-dev libboost-system-dev libssl-dev openssl libyaml-cpp-dev nlohmann-json3-dev libsimdjson-dev
  node-llhttp libhyperscan-dev zlib1g-dev libbrotli-dev libmaxminddb-dev libnghttp2-dev libldns-dev
  # tests
  doctest-dev python3 python3-pytest python3-yaml curl iproute2 nftables
  libmaxmind-db-writer-perl clang libclang-rt-14-dev chromium
  # DNS forwarder tests (issue 17): dig
  dnsutils
  # HTTP/2 and gRPC tests (issue 14): h2 origins and hand-built frames, a gRPC server and client
  # (generic handlers on raw bytes: no protoc), nghttp and h2load (nghttp2-client)
  python3-h2 python3-hyperframe python3-hpack python3-grpcio python3-protobuf nghttp2-client
  # benchmarks
  libbenchmark-dev wrk nginx-light
  # (nginx-light has the http2 module, which bench/h2_bench.sh and the h2 tests use; mitmproxy, the
  # peer in bench/h2_bench.sh, is left out: on Debian 12 it upgrades libbrotli-dev/libbrotli1, a
  # build dependency, so the bench measures it only where it is installed already)
  # Debian packages (scripts/package.sh) and the arm64 cross build under qemu-user (scripts/build.sh
  # arm64; its libraries are unpacked into a sysroot by scripts/arm64-sysroot.sh, not installed)
  debhelper lintian help2man bash-completion crossbuild-essential-arm64 qemu-user file binutils
)

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
