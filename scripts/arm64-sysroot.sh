#!/usr/bin/env bash
# Assembles an arm64 sysroot from Debian's packages for the cross build (scripts/build.sh arm64):
# the :arm64 -dev packages leakguard builds against (Vectorscan, not Hyperscan, which is x86-only),
# their libraries and the C/C++ runtime, downloaded with apt-get and unpacked with dpkg-deb -x.
# Nothing is installed: the amd64 -dev packages stay as they are (libvectorscan-dev conflicts with
# libhyperscan-dev, so the two cannot be installed side by side). Also writes a minimal dpkg
# database of what was unpacked (sysroot/var/lib/dpkg), so dpkg-shlibdeps can compute the arm64
# package's dependencies. Usage: scripts/arm64-sysroot.sh [DIR] (default build-arm64/sysroot).
set -euo pipefail
cd "$(dirname "$0")/.."
sysroot=$(realpath -m "${1:-build-arm64/sysroot}")
debs=$(realpath -m "$sysroot/../debs")
wanted=(libboost-dev libboost-system-dev libssl-dev libyaml-cpp-dev libsimdjson-dev libvectorscan-dev
        zlib1g-dev libbrotli-dev libmaxminddb-dev libnghttp2-dev libprotobuf-dev libpcap-dev libldns-dev libc6-dev
        libstdc++-12-dev)
headers=(doctest-dev nlohmann-json3-dev)  # Architecture: all, header-only: taken by their plain names
stamp="$sysroot/.packages"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${wanted[*]} ${headers[*]}" ]; then
  echo "arm64-sysroot: $sysroot is up to date" >&2
  exit 0
fi

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  [ "$(id -u)" -eq 0 ] || { echo "arm64-sysroot: run as root once: dpkg --add-architecture arm64 && apt-get update" >&2; exit 1; }
  dpkg --add-architecture arm64
  apt-get update -qq
fi

# The closure of the wanted packages' dependencies: the arm64 ones, and the arch-independent ones
# (headers such as doctest-dev), which apt-cache lists without an architecture.
names=()
for p in "${wanted[@]}"; do names+=("$p:arm64"); done
mapfile -t listed < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "${names[@]}" | grep -v -e '^ ' -e '^<' | sort -u)
mapfile -t unqualified < <(printf '%s\n' "${listed[@]}" | grep -v ':')
mapfile -t arch_all < <(apt-cache show --no-all-versions "${unqualified[@]}" 2>/dev/null |
                        awk '/^Package:/ {p=$2} /^Architecture: all/ {print p}' | sort -u)
downloads=("${headers[@]}" "${arch_all[@]}")
mapfile -t -O "${#downloads[@]}" downloads < <(printf '%s\n' "${listed[@]}" | grep ':arm64$')
rm -rf "$debs"
mkdir -p "$debs"
(cd "$debs" && apt-get download -q "${downloads[@]}" 2>&1 | grep -v -e 'unsandboxed' -e '^Get:' >&2 || true)

rm -rf "$sysroot"
mkdir -p "$sysroot/var/lib/dpkg/info"
: > "$sysroot/var/lib/dpkg/status"
# Multiarch info file names (pkg:arch.list) and the architectures the database knows.
echo 1 > "$sysroot/var/lib/dpkg/info/format"
printf 'amd64\narm64\n' > "$sysroot/var/lib/dpkg/arch"
for deb in "$debs"/*.deb; do
  dpkg-deb -x "$deb" "$sysroot"
  package=$(dpkg-deb -f "$deb" Package)
  arch=$(dpkg-deb -f "$deb" Architecture)
  key=$package; [ "$(dpkg-deb -f "$deb" Multi-Arch)" = same ] && key="$package:$arch"
  # The database entry: the control fields, installed, and the files under their sysroot paths.
  { dpkg-deb -f "$deb"; echo "Status: install ok installed"; echo; } >> "$sysroot/var/lib/dpkg/status"
  dpkg-deb -c "$deb" | awk '{print $6}' | sed "s|^\./|$sysroot/|; s|/$||" | grep -v "^$sysroot$" \
    > "$sysroot/var/lib/dpkg/info/$key.list" || true
  control=$(mktemp -d)
  dpkg-deb -e "$deb" "$control"
  for f in shlibs symbols; do [ -f "$control/$f" ] && cp "$control/$f" "$sysroot/var/lib/dpkg/info/$key.$f"; done
  rm -rf "$control"
done
# Absolute symlinks inside the packages (libfoo.so -> /lib/...) must resolve inside the sysroot.
find "$sysroot" -type l -lname '/*' | while read -r link; do
  ln -sfn "$sysroot$(readlink "$link")" "$link"
done
echo "${wanted[*]} ${headers[*]}" > "$stamp"
echo "arm64-sysroot: $(ls "$debs" | wc -l) packages unpacked in $sysroot" >&2
