#!/usr/bin/env bash
# Soak (issue 16, part 3): one leakguard process, mode log, 50 device profiles (the loopback
# client is the last one tried), every LEAK_EVERY-th request carrying the phone's IMEI, through
# three phases one after the other against a local nginx:
#   1 keepalive   wrk, 50 keep-alive connections, explicit proxy (absolute-form GET)
#   2 newconn     wrk with `Connection: close`: a new TCP connection per request
#   3 tls         bench/tls_load --mode handshake through CONNECT: a new connection and two full TLS
#                 handshakes (client-leakguard, leakguard-nginx) per request, intercepted
# Each phase runs in PARTS (2) equal parts; after each part (once the connections have closed):
# leakguard's VmRSS, VmHWM and open descriptors, the requests answered, the failures, and the
# findings logged so far. Growth within a phase (part 1 to part 2) is what a leak looks like; a
# step between phases is the new kind of traffic's working set (TLS state, more sessions at once).
# Target: RSS and descriptors flat (within 10% of their value after phase 1), no failed request,
# one finding per leaking request.
#
#   bench/soak.sh                                    # 3,000,000 requests, a third per phase
#   KEEPALIVE_REQUESTS=2000000 NEWCONN_REQUESTS=800000 TLS_REQUESTS=200000 bench/soak.sh
#
# LEAKGUARD_BIN (build/leakguard), TLS_LOAD_BIN (build/bench/tls_load), PROFILES (50),
# LEAK_EVERY (10), CONNECTIONS (50, phases 1 and 2), TLS_CONNECTIONS (20).
# Only loopback addresses; every wait is bounded; everything started is stopped on exit. The event
# log (about 500 bytes a request) is written to the temp folder and removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_NAME=soak
source bench/lib.sh

BIN=${LEAKGUARD_BIN:-build/leakguard}
LOAD=${TLS_LOAD_BIN:-build/bench/tls_load}
REQUESTS=${REQUESTS:-3000000}
KEEPALIVE_REQUESTS=${KEEPALIVE_REQUESTS:-$((REQUESTS / 3))}
NEWCONN_REQUESTS=${NEWCONN_REQUESTS:-$((REQUESTS / 3))}
TLS_REQUESTS=${TLS_REQUESTS:-$((REQUESTS - KEEPALIVE_REQUESTS - NEWCONN_REQUESTS))}
PROFILES=${PROFILES:-50}
LEAK_EVERY=${LEAK_EVERY:-10}
CONNECTIONS=${CONNECTIONS:-50}
TLS_CONNECTIONS=${TLS_CONNECTIONS:-20}
PARTS=${PARTS:-2}
THREADS=2

for tool in nginx wrk openssl python3; do
  command -v "$tool" > /dev/null || { echo "soak: $tool is missing (scripts/install-deps.sh)" >&2; exit 2; }
done
[ -x "$BIN" ] || { echo "soak: $BIN is missing: build it first" >&2; exit 2; }
[ -x "$LOAD" ] || { echo "soak: $LOAD is missing: make tls_load (LEAKGUARD_BENCH=ON)" >&2; exit 2; }

tmp=$(mktemp -d /tmp/leakguard-soak.XXXXXX)
nginx_pid=""
proxy_pid=""
trap stop_servers_and_clean EXIT

# --- nginx: a 1 KiB file over plain HTTP and over TLS (the origin's own test CA).
make_origin_pki "$tmp/pki" "soak origin CA"
mkdir -p "$tmp/nginx/www" "$tmp/nginx/logs"
head -c 1024 /dev/zero | tr '\0' 'a' > "$tmp/nginx/www/file"
chmod a+x "$tmp"
chmod -R a+rX "$tmp/nginx"
http_port=$(free_port)
https_port=$(free_port)
write_nginx_conf "" "  server {
    listen 127.0.0.1:$http_port;
    listen 127.0.0.1:$https_port ssl;
    ssl_certificate $tmp/pki/origin.pem;
    ssl_certificate_key $tmp/pki/origin.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $tmp/nginx/www;
  }"
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/logs/error.log" &
nginx_pid=$!
wait_for_port "$http_port"
wait_for_port "$https_port"

# --- leakguard: the profiles of bench/profiles_bench.py, mode log, interception of everything.
"$BIN" ca init --dir "$tmp/ca" > /dev/null
imei=$(python3 bench/profiles_bench.py --profiles "$PROFILES" --write-config "$tmp/leakguard.yaml" \
  --events "$tmp/events.jsonl")
cat >> "$tmp/leakguard.yaml" << EOF
tls:
  intercept: all
  ca_dir: "$tmp/ca"
  upstream_ca: "$tmp/pki/origin-ca.pem"
EOF
start_leakguard "$tmp/leakguard.yaml"

status_kib() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$proxy_pid/status"; }
open_fds() { ls "/proc/$proxy_pid/fd" | wc -l; }

# After a phase: wait (at most 30 s) until leakguard's descriptors stop falling, then print a row.
report() {  # $1 phase, $2 requests answered, $3 failures, $4 seconds
  local fds previous=-1
  for _ in $(seq 60); do
    fds=$(open_fds)
    [ "$fds" = "$previous" ] && break
    previous=$fds
    sleep 0.5
  done
  sleep 1.5  # leakguard trims its heap once a second after connections close (common/free_memory.hpp)
  local findings
  findings=$(grep -c '"type":"finding"' "$tmp/events.jsonl" || true)
  printf '%-9s %10s %8s %8.0f %9s %9s %9s %9s %5s %9s  (%s)\n' "$1" "$2" "$3" "$(awk -v n="$2" -v s="$4" 'BEGIN { print n / s }')" \
    "$(status_kib VmRSS)" "$(status_kib RssAnon)" "$(status_kib RssFile)" "$(status_kib VmHWM)" "$fds" "$findings" \
    "$(uptime | sed 's/.*load average: //')"
}

target="http://127.0.0.1:$http_port"
wrk_phase() {  # $1 phase name, $2 requests, $3 close (0|1)
  local per_thread=$(( ($2 + THREADS - 1) / THREADS )) started out line requests non200 errors failures
  started=$(date +%s.%N)
  : > "$tmp/wrk.done"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d86400s --timeout 10s -s bench/wrk_soak.lua "http://127.0.0.1:$proxy_port/" \
    -- "$target" "$per_thread" "$LEAK_EVERY" "$imei" "$3" "$tmp/wrk.done" > "$tmp/wrk.out" &
  local wrk_pid=$!
  # Every thread writes a line once it has its answers; wrk then ends on SIGINT (its -d is a bound).
  while [ "$(wc -l < "$tmp/wrk.done")" -lt "$THREADS" ] && kill -0 "$wrk_pid" 2> /dev/null; do sleep 0.2; done
  kill -INT "$wrk_pid" 2> /dev/null || true
  wait "$wrk_pid" || true
  out=$(cat "$tmp/wrk.out")
  echo "$out" >> "$tmp/wrk.log"
  line=$(grep '^soak: ' <<< "$out")
  requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<< "$line")
  non200=$(sed -n 's/.*non200=\([0-9]*\).*/\1/p' <<< "$line")
  errors=$(sed -n 's/.*errors=\([0-9,]*\).*/\1/p' <<< "$line")
  failures=$(( non200 + $(tr ',' '+' <<< "$errors") ))
  report "$1" "$requests" "$failures" "$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')"
}

tls_phase() {  # $1 phase name, $2 requests
  local started line requests errors
  started=$(date +%s.%N)
  line=$("$LOAD" --connect "127.0.0.1:$https_port" --proxy "127.0.0.1:$proxy_port" --host localhost \
    --cafile "$tmp/ca/ca.pem" --path "/file?lang=en" --leak-path "/file?lang=en&imei=$imei" --leak-every "$LEAK_EVERY" \
    --mode handshake --requests "$2" --connections "$TLS_CONNECTIONS" --threads "$THREADS" --duration 86400)
  requests=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<< "$line")
  errors=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<< "$line")
  report "$1" "$requests" "$errors" "$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')"
}

echo "# $BIN, $PROFILES profiles, mode log, 1 in $LEAK_EVERY requests leaks the IMEI; nginx 1 KiB file"
echo "# requests: keepalive $KEEPALIVE_REQUESTS, newconn $NEWCONN_REQUESTS, tls $TLS_REQUESTS"
printf '%-9s %10s %8s %8s %9s %9s %9s %9s %5s %9s\n' phase requests failed req/s rss_kib anon_kib file_kib hwm_kib fds findings
report start 0 0 1
for part in $(seq "$PARTS"); do wrk_phase "keepalive$part" $((KEEPALIVE_REQUESTS / PARTS)) 0; done
for part in $(seq "$PARTS"); do wrk_phase "newconn$part" $((NEWCONN_REQUESTS / PARTS)) 1; done
for part in $(seq "$PARTS"); do tls_phase "tls$part" $((TLS_REQUESTS / PARTS)); done
