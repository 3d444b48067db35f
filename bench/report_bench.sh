#!/usr/bin/env bash
# `leakguard report` on a large synthetic event log (issue 7): generates ~SIZE_MB of events
# (bench/report_events_gen.py, fixed seed), then times the report with /usr/bin/time -v for wall
# time and peak RSS, on the plain log, on its gzip-rotated copy, and as HTML. Results go to
# bench/RESULTS.md by hand, under "Reports (issue 7)".
#   usage: bash bench/report_bench.sh [SIZE_MB]     (default 1024; LEAKGUARD_BIN picks the binary)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-1024}
bin=${LEAKGUARD_BIN:-build/leakguard}
out=bench/out/report
mkdir -p "$out"
log="$out/events-${size_mb}mb.jsonl"

if [ ! -f "$log" ]; then
  /usr/bin/python3 bench/report_events_gen.py --mb "$size_mb" -o "$log"
fi
ls -l "$log"
echo "lines: $(wc -l < "$log")"

measure() {
  local name=$1
  shift
  /usr/bin/time -v "$@" 2> "$out/time-$name.txt" || { echo "exit $? for $name" >&2; cat "$out/time-$name.txt" >&2; exit 1; }
  local wall user rss
  wall=$(grep "Elapsed (wall clock)" "$out/time-$name.txt" | awk '{print $NF}')
  user=$(grep "User time" "$out/time-$name.txt" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$out/time-$name.txt" | awk '{print $NF}')
  printf '%-6s wall %-9s user CPU %-7ss peak RSS %s KiB\n' "$name" "$wall" "$user" "$rss"
}

measure json "$bin" report --home-country NO --format json -o "$out/report.json" "$log"
measure html "$bin" report --home-country NO -o "$out/report.html" "$log"
if [ ! -f "$log.gz" ]; then gzip -1 -k "$log"; fi
ls -l "$log.gz"
measure gz "$bin" report --home-country NO --format json -o "$out/report-gz.json" "$log.gz"
/usr/bin/python3 - "$out/report.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
print(f"rows {len(data['leaks'])}, devices {len(data['devices'])}, events {data['inputs']['events']}, "
      f"malformed {data['inputs']['malformed_lines']}")
PY
