#!/usr/bin/env bash
# `leakguard scan` over packet captures (issue 17) against tshark's plain read of the same file, in
# one run: generates ~SIZE_MB captures of mixed synthetic traffic (bench/pcap_gen.py, fixed seed:
# HTTP/1.1 with some leaks, TLS, raw TCP, 500 flows open at any time), then for each size times
# `leakguard scan -c PROFILE FILE > /dev/null` and `tshark -r FILE -q` RUNS times with
# /usr/bin/time: median MB/s (of the file size) by wall and by CPU time, and the largest peak RSS.
# Two sizes of the same mix show whether memory follows the file size or the open flows. The
# captures are deleted after.
#   usage: bash bench/pcap_bench.sh [SIZE_MB...]   (default: 100 1024; RUNS=3; LEAKGUARD_BIN picks the binary)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${LEAKGUARD_BIN:-build/leakguard}
runs=${RUNS:-3}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1024)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pcap-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
command -v tshark > /dev/null || { echo "pcap_bench: tshark is missing (scripts/install-deps.sh)" >&2; exit 1; }

# The generator's clients are 10.42.0.0/16: one lab profile for all of them, so the known detector runs.
cat > "$tmp/profile.yaml" << 'EOF'
devices:
  - name: lab-phones
    match: { cidr: 10.42.0.0/16 }
    identifiers: { imei: "353209091234567", imsi: "242016601234567" }
EOF

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# measure NAME FILE COMMAND...: prints "NAME MB/s peak-RSS-KiB" over $runs runs.
measure() {
  local name=$1 file=$2
  shift 2
  local bytes seconds=() cpu=() rss=0
  bytes=$(stat -c %s "$file")
  for _ in $(seq "$runs"); do
    # scan exits 1 when it finds something (it does: the mix has leaks); anything else is a failure.
    /usr/bin/time -o "$tmp/time" -f "%e %U %S %M" "$@" > /dev/null 2> "$tmp/stderr" || [ $? -eq 1 ] ||
      { echo "pcap_bench: $name failed" >&2; cat "$tmp/stderr" >&2; exit 1; }
    read -r wall user system peak < <(tail -n 1 "$tmp/time")
    seconds+=("$wall")
    cpu+=("$(awk -v u="$user" -v s="$system" 'BEGIN { print u + s }')")
    [ "$peak" -gt "$rss" ] && rss=$peak
  done
  local wall used
  wall=$(printf '%s\n' "${seconds[@]}" | median)
  used=$(printf '%s\n' "${cpu[@]}" | median)
  # MB/s of wall time, and of CPU time (user + system: what the machine's load does not change).
  awk -v n="$name" -v b="$bytes" -v w="$wall" -v c="$used" -v r="$rss" \
    'BEGIN { printf "%-7s %7.1f MB  wall %6.2f s %7.1f MB/s  CPU %6.2f s %7.1f MB/s  peak RSS %6.1f MiB\n",
             n, b / 1e6, w, b / 1e6 / w, c, b / 1e6 / (c > 0 ? c : 0.01), r / 1024 }'
}

echo "leakguard: $("$bin" --version | head -n 1); $(tshark --version 2> /dev/null | head -n 1); $runs runs each; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for size in "${sizes[@]}"; do
  file="$tmp/mixed-${size}mb.pcap"
  /usr/bin/python3 bench/pcap_gen.py --mb "$size" -o "$file" > /dev/null
  findings=$("$bin" scan -c "$tmp/profile.yaml" "$file" 2> "$tmp/summary" | wc -l) || true
  echo "== ${size} MB requested: $(tail -n 1 "$tmp/summary" | sed 's/^leakguard scan: [^:]*: //'); $findings findings"
  measure scan "$file" "$bin" scan -c "$tmp/profile.yaml" "$file"
  measure tshark "$file" tshark -r "$file" -q
  rm -f "$file"
done
