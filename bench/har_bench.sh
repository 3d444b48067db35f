#!/usr/bin/env bash
# `leakguard scan` over a large generated HAR (issue 17): generates ~SIZE_MB in Chrome's shape
# (bench/har_gen.py, fixed seed), then times with /usr/bin/time (wall, user CPU, peak RSS) the whole
# scan with the shared lab profile, the reader alone (har_parse_bench reader) and nlohmann::json's
# DOM over the same file (har_parse_bench nlohmann), the parser leakguard did not take. MB/s are
# file bytes per second of wall time and of CPU time (user + sys; the machine is shared). Results go
# to bench/RESULTS.md by hand, under "Captures (issue 17)".
#   usage: bash bench/har_bench.sh [SIZE_MB]   (default 200; LEAKGUARD_BIN and BENCH_DIR pick the binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-200}
bin=${LEAKGUARD_BIN:-build/leakguard}
parse_bench=${BENCH_DIR:-build/bench}/har_parse_bench
out=bench/out/har
mkdir -p "$out"
har="$out/chrome-${size_mb}mb.har"
[ -f "$har" ] || /usr/bin/python3 bench/har_gen.py --mb "$size_mb" -o "$har"
bytes=$(stat -c %s "$har")
echo "$har: $bytes bytes"

measure() {
  local name=$1
  shift
  local rc=0
  /usr/bin/time -f "%e %U %S %M" -o "$out/time-$name.txt" "$@" > "$out/stdout-$name.txt" || rc=$?
  [ "$rc" -le 1 ] || { echo "exit $rc for $name" >&2; exit 1; }
  read -r wall user sys rss < <(tail -1 "$out/time-$name.txt")  # after "Command exited with ..." when 1
  /usr/bin/python3 -c "import sys; b,w,u,s,r=map(float,sys.argv[1:6]); \
print(f'{sys.argv[6]:<9} wall {w:6.2f} s ({b/1e6/max(w,0.01):6.1f} MB/s)  CPU user {u:5.2f} + sys {s:5.2f} s \
({b/1e6/max(u+s,0.01):6.1f} MB/s)  peak RSS {r/1024:6.1f} MiB')" "$bytes" "$wall" "$user" "$sys" "$rss" "$name"
}

measure scan "$bin" scan -c ../shared/corpus/profile.yaml "$har"
echo "  findings: $(grep -c '"type":"finding"' "$out/stdout-scan.txt")"
measure reader "$parse_bench" reader "$har"
measure nlohmann "$parse_bench" nlohmann "$har"
cat "$out/stdout-reader.txt" "$out/stdout-nlohmann.txt"
