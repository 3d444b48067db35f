#!/usr/bin/env bash
# Proxy core benchmark (issue 2): wrk against a local nginx, directly and through leakguard in
# explicit mode, with both threading models. Prints requests/s, p50 and p99 latency, leakguard's
# peak RSS, CPU time per request and the ratio to direct, per run and as medians; bench/RESULTS.md
# records the figures.
#
#   bench/http_proxy_bench.sh                      # LEAKGUARD_BIN=build/leakguard, 3 runs of 10 s
#   LEAKGUARD_BIN=build-bench/leakguard RUNS=3 DURATION=10 CONNECTIONS=50 bench/http_proxy_bench.sh
#   CONFIGS="per_core log block" BODY_BYTES=4096 bench/http_proxy_bench.sh   # inspection (issue 4)
#
# CONFIGS (default "per_core shared") are compared with `direct` in the same run:
#   per_core, shared  the two threading models, pass-through (every detector disabled)
#   log, block        inspection on: 50 device profiles loaded, mode log (streams, inspects beside)
#                     or mode block (holds each request until inspected); per_core threading
#   profiles_N        mode log with N profiles of bench/profiles_bench.py, the client the last one
#                     (CONFIGS="profiles_1 profiles_1000": throughput with 1,000 profiles, issue 16)
# BODY_BYTES > 0 sends POST requests with a form body of that size (nginx answers them from a
# `return 200` location), else GET of the static file with a short query string.
# APP_HEADERS=1 adds an app's header set to every request (User-Agent, a bearer JWT, cookies,
# Accept-*, Referer: about 700 bytes), as a phone app sends on each request of a connection.
#
# Choices, so that the figures mean something on a 2-core machine where wrk, nginx and leakguard
# share the cores:
# - nginx: worker_processes 1. With auto (2) nginx would compete with wrk and leakguard for the same
#   two cores in the proxied runs and take more than its share in the direct one; one worker serves
#   a 1 KiB static file far faster than leakguard relays it, so it is not the bottleneck it measures.
#   access_log off, keepalive_requests 1000000 (no reconnects during a run), sendfile on.
# - wrk: keep-alive (its default), 50 connections, 2 threads (one per core), --latency.
# - leakguard: explicit mode on 127.0.0.1:0, events to a file in the temp dir (a JSON line per
#   exchange, as in production), workers left to the default (one per core). A fresh process for
#   every run, so VmHWM is that run's peak.
# - Runs are interleaved (direct, per_core, shared; then again) so that load from other work on the
#   machine spreads over all three configurations; `uptime` is printed with each run.
# - cpu_us_req (CPU time of nginx's worker, or of leakguard, per request) moves less than req/s when
#   other work shares the cores: compare it too when the load average is high.
# Only loopback addresses; every wait is bounded; everything started is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_NAME=http_proxy_bench
source bench/lib.sh

BIN=${LEAKGUARD_BIN:-build/leakguard}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${WRK_THREADS:-2}
FILE_BYTES=${FILE_BYTES:-1024}
CONFIGS=${CONFIGS:-per_core shared}
BODY_BYTES=${BODY_BYTES:-0}
APP_HEADERS=${APP_HEADERS:-0}
header_args=()
if [ "$APP_HEADERS" = 1 ]; then
  header_args=(
    -H "User-Agent: Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230901.001) okhttp/4.12.0"
    -H "Accept: application/json, text/plain, */*"
    -H "Accept-Language: nb-NO,nb;q=0.9,en-US;q=0.8,en;q=0.7"
    -H "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwiaWF0IjoxNzMyNzgwODAwfQ.Qx7pR2m9Vt4Wk8ZsN1bYc3Hd6Lf0Ja5Ge2Uq7Oi9Ty4"
    -H "Cookie: sid=s%3A7d9f8a6b5c4e3d2f1a0b9c8d7e6f5a4b.Xy9ZkLmNoPqRsTuVwXyZ0123456789abcdefGHIJ; theme=dark; consent=analytics%3D0%26ads%3D0; _ga=GA1.2.1234567890.1732780800"
    -H "X-App-Version: 5.12.3 (51203)"
    -H "Cache-Control: no-cache"
    -H "Referer: https://www.example.com/app/feed?tab=home&from=notification")
fi

for tool in nginx wrk python3; do
  command -v "$tool" > /dev/null || { echo "http_proxy_bench: $tool is missing (scripts/install-deps.sh)" >&2; exit 2; }
done
[ -x "$BIN" ] || { echo "http_proxy_bench: $BIN is missing: build it first" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/http-proxy-bench.XXXXXX")
nginx_pid=""
proxy_pid=""
trap stop_servers_and_clean EXIT



# --- nginx: its own prefix, config and logs in the temp dir; a non-daemon child of this script.
mkdir -p "$tmp/nginx/www" "$tmp/nginx/logs"
head -c "$FILE_BYTES" /dev/zero | tr '\0' 'a' > "$tmp/nginx/www/file"
# The worker drops to an unprivileged user when started as root: let it read the file.
chmod -R a+rX "$tmp"
nginx_port=$(free_port)
write_nginx_conf "  sendfile on;" "  server {
    listen 127.0.0.1:$nginx_port;
    root $tmp/nginx/www;
    location = /post { return 200 \"ok\\n\"; }
  }"
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/logs/error.log" &
nginx_pid=$!
wait_for_port "$nginx_port"
if [ "$BODY_BYTES" -gt 0 ]; then
  target="http://127.0.0.1:$nginx_port/post"
else
  target="http://127.0.0.1:$nginx_port/file?lang=en&session=7f3a9c"
fi
export LEAKGUARD_BENCH_BODY_BYTES=$BODY_BYTES

# --- leakguard: explicit mode, events to a file, default workers.
# Pass-through: the proxy core alone, every detector disabled (issue 2's figure).
cat > "$tmp/passthrough.yaml" << EOF
listen: ["127.0.0.1:0"]
clients: { allow: ["127.0.0.0/8"] }
events: { path: "$tmp/events.jsonl" }
detectors: { known_identifiers: { enabled: false }, heuristics: { enabled: false } }
EOF
# Inspection: 50 device profiles (the first one is the loopback client), in log and block mode.
python3 - "$tmp" << 'PY'
import random, sys
random.seed(50)
def luhn_complete(digits):
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d)
        if i % 2 == 0:
            n = n * 2 - 9 if n * 2 > 9 else n * 2
        total += n
    return digits + str((10 - total % 10) % 10)
lines = []
for i in range(50):
    match = '{cidr: "127.0.0.0/8"}' if i == 0 else '{ip: "10.42.0.%d"}' % (i + 1)
    lines += [f"  - name: phone-{i:02d}", f"    match: {match}", "    identifiers:",
              f'      imei: "{luhn_complete("35320909" + "%06d" % random.randrange(10**6))}"',
              f'      imsi: "24201{random.randrange(10**10):010d}"',
              f'      iccid: "{luhn_complete("894701" + "%012d" % random.randrange(10**12))}"',
              f'      msisdn: "+479{random.randrange(10**7):07d}"',
              f'      serial: "B2NG{random.randrange(16**12):012X}"',
              f'      mac: "a4:50:46:{random.randrange(256):02x}:{random.randrange(256):02x}:{random.randrange(256):02x}"',
              f'      android_id: "{random.randrange(16**16):016x}"',
              f'      email: "phone{i}@lab.example"']
devices = "devices:\n" + "\n".join(lines) + "\n"
for mode in ("log", "block"):
    with open(f"{sys.argv[1]}/{mode}.yaml", "w") as f:
        f.write('listen: ["127.0.0.1:0"]\nclients: { allow: ["127.0.0.0/8"] }\n')
        f.write(f'events: {{ path: "{sys.argv[1]}/events.jsonl" }}\nmode: {mode}\n' + devices)
PY

# profiles_N: N profiles of bench/profiles_bench.py (8 identifiers each; the loopback client is the
# last one), mode log: throughput with 1 against 1,000 profiles (issue 16).
for config in $CONFIGS; do
  case "$config" in
    profiles_*) python3 bench/profiles_bench.py --profiles "${config#profiles_}" --write-config "$tmp/$config.yaml" \
                  --events "$tmp/events.jsonl" > /dev/null ;;
  esac
done

start_proxy() {  # $1: per_core | shared | log | block | profiles_N. Sets proxy_pid and proxy_port.
  [ -d "$tmp" ] || { echo "http_proxy_bench: $tmp was removed under the running benchmark" >&2; exit 1; }
  rm -f "$tmp/events.jsonl"
  local threading=$1 config=$tmp/passthrough.yaml
  case "$1" in log | block | profiles_*) threading=per_core; config=$tmp/$1.yaml ;; esac
  start_leakguard "$config" env LEAKGUARD_THREADING="$threading"
}

stop_proxy() {
  kill "$proxy_pid" 2> /dev/null || true
  wait "$proxy_pid" 2> /dev/null || true
  proxy_pid=""
}

peak_rss_kib() {
  awk '/^VmHWM:/ {print $2}' "/proc/$1/status"
}

HZ=$(getconf CLK_TCK)

# Runs wrk and prints "rps p50_ms p99_ms requests"; fails the script on non-200 answers.
run_wrk() {  # $1: URL, then extra wrk arguments
  local url=$1 out
  shift
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" "$url")
  echo "$out" >> "$tmp/wrk.log"
  if grep -q "Non-2xx or 3xx responses" <<< "$out"; then
    echo "http_proxy_bench: non-200 answers:" >&2
    echo "$out" >&2
    exit 1
  fi
  if grep -q "Socket errors" <<< "$out"; then
    echo "http_proxy_bench: warning: $(grep 'Socket errors' <<< "$out")" >&2
  fi
  awk '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
      return v
    }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    $1 == "Requests/sec:" { rps = $2 }
    $2 == "requests" && $3 == "in" { total = $1 }
    END { printf "%.0f %.3f %.3f %d\n", rps, p50, p99, total }
  ' <<< "$out"
}

echo "# leakguard proxy benchmark: $(date -u +%FT%TZ), $(nproc) cores, $(uname -r)"
echo "# binary $BIN; wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency; nginx worker_processes 1, ${FILE_BYTES}-byte file"
echo "# configs: direct $CONFIGS; requests: $([ "$BODY_BYTES" -gt 0 ] && echo "POST with a ${BODY_BYTES}-byte form body" || echo "GET with a query string")$([ "$APP_HEADERS" = 1 ] && echo ", an app's headers")"
# cpu_us_req: CPU time of the measured server (nginx's worker for direct, leakguard otherwise) per
# request, in microseconds; it moves less than req/s when other work shares the cores.
printf '%-10s %-4s %10s %9s %9s %9s %10s  %s\n' config run req/s p50_ms p99_ms rss_kib cpu_us_req load
results="$tmp/results"
: > "$results"
nginx_worker=$(pgrep -P "$nginx_pid" | head -1)
for run in $(seq "$RUNS"); do
  load=$(uptime | sed 's/.*load average: //')
  before=$(cpu_ticks "$nginx_worker")
  read -r rps p50 p99 total < <(run_wrk "$target" "${header_args[@]}")
  cpu=$(( ( $(cpu_ticks "$nginx_worker") - before ) * 1000000 / HZ / total ))
  printf '%-10s %-4s %10s %9s %9s %9s %10s  %s\n' direct "$run" "$rps" "$p50" "$p99" - "$cpu" "$load"
  echo "direct $rps $p50 $p99 0 $cpu" >> "$results"
  for mode in $CONFIGS; do
    start_proxy "$mode"
    load=$(uptime | sed 's/.*load average: //')
    before=$(cpu_ticks "$proxy_pid")
    read -r rps p50 p99 total < <(LEAKGUARD_BENCH_TARGET=$target run_wrk "http://127.0.0.1:$proxy_port/" -s bench/wrk_absolute_form.lua "${header_args[@]}")
    cpu=$(( ( $(cpu_ticks "$proxy_pid") - before ) * 1000000 / HZ / total ))
    rss=$(peak_rss_kib "$proxy_pid")
    exchanges=$(grep -c '"type":"http"' "$tmp/events.jsonl" || true)
    stop_proxy
    printf '%-10s %-4s %10s %9s %9s %9s %10s  %s  (%s http events)\n' "$mode" "$run" "$rps" "$p50" "$p99" "$rss" "$cpu" "$load" "$exchanges"
    echo "$mode $rps $p50 $p99 $rss $cpu" >> "$results"
  done
done

echo
echo "# medians of $RUNS runs"
python3 - "$results" $CONFIGS << 'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    config, *values = line.split()
    rows.setdefault(config, []).append([float(v) for v in values])
median = {c: [statistics.median(col) for col in zip(*v)] for c, v in rows.items()}
direct = median["direct"][0]
print(f"{'config':<10} {'req/s':>10} {'p50_ms':>9} {'p99_ms':>9} {'peak_rss_kib':>13} {'cpu_us_req':>11} {'vs_direct':>9}")
for config in ["direct", *sys.argv[2:]]:
    rps, p50, p99, rss, cpu = median[config]
    rss_text = "-" if config == "direct" else f"{rss:.0f}"
    print(f"{config:<10} {rps:>10.0f} {p50:>9.3f} {p99:>9.3f} {rss_text:>13} {cpu:>11.0f} {rps / direct:>9.0%}")
EOF
