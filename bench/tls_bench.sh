#!/usr/bin/env bash
# TLS interception benchmark (issue 5): the same local HTTPS origin (nginx), reached directly and
# through leakguard's interception (CONNECT, then a forged leaf towards the client and a verified
# TLS connection towards nginx), in one run. Two loads, both from bench/tls_load:
#   keepalive  K connections, requests back to back on each (TLS set up once per connection)
#   handshake  a new TCP connection and a full TLS handshake per request (no session resumption),
#              leaf cache warm (one warm-up connection first)
# Prints req/s, p50/p99, leakguard's CPU time per request and the ratio to direct, per run and as
# medians; bench/RESULTS.md records the figures ("TLS interception (issue 5)").
#
#   bench/tls_bench.sh        # LEAKGUARD_BIN=build/leakguard, TLS_LOAD_BIN=build/bench/tls_load
#   LEAKGUARD_BIN=build-bench/leakguard TLS_LOAD_BIN=build-bench/bench/tls_load RUNS=3 DURATION=10 bench/tls_bench.sh
#
# Choices, on a 2-core machine where the load client, nginx and leakguard share the cores:
# - Everything EC P-256 (origin certificate, leakguard's CA and leaves), TLS 1.3 on both legs, as a
#   current phone and CDN would negotiate. The load client offers no session to resume, so every
#   `handshake` request is a full handshake: two of them per request through interception.
# - nginx: worker_processes 1, access_log off, keepalive_requests 1000000, a 1 KiB static file,
#   session tickets on (nginx's default, and what origins do): leakguard then resumes its upstream
#   sessions, as every proxy does. ORIGIN_TICKETS=off measures the worst case, a full handshake on
#   both legs for every request.
# - leakguard: `tls.intercept: all`, events to a file (a `tls` and an `http` JSON line per
#   connection / exchange, as in production), default workers (one per core), a fresh process per run.
# - The load client runs 2 threads. Runs are interleaved (direct and proxied, keep-alive and
#   handshake) so that other load on the machine spreads over all of them; `uptime` is printed.
# - RELAY=1 (default): also keep-alive through nginx as a TLS-terminating reverse proxy (2 workers,
#   a verified TLS upstream with keep-alive and session reuse): another proxy that decrypts and
#   re-encrypts every request, measured the same way, so that leakguard's ratio has a yardstick.
#   (Not for `handshake`: nginx reuses upstream connections, which a transparent proxy cannot.)
# - PERF_DIR=DIR: perf record (call graphs) of leakguard during each proxied measurement, into DIR.
# - PIN=1: the load client and nginx on CPU 0, leakguard (workers: 1) on CPU 1, as when the proxy
#   runs on a box of its own (a router, a lab server) between phones and origins. Without it all
#   three share both cores, and the ratio is mostly the CPU cost of leakguard per request relative
#   to client + origin.
# - cpu_us_req: CPU time of leakguard (or of nginx's worker, for direct) per request; it moves less
#   than req/s when other work shares the cores.
# Only loopback addresses; every wait is bounded; everything started is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_NAME=tls_bench
source bench/lib.sh

BIN=${LEAKGUARD_BIN:-build/leakguard}
LOAD=${TLS_LOAD_BIN:-build/bench/tls_load}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-50}
HANDSHAKE_CONNECTIONS=${HANDSHAKE_CONNECTIONS:-20}
FILE_BYTES=${FILE_BYTES:-1024}
ORIGIN_TICKETS=${ORIGIN_TICKETS:-on}
PIN=${PIN:-0}
PERF_DIR=${PERF_DIR:-}  # set: perf-record leakguard during each proxied measurement into this folder
RELAY=${RELAY:-1}

for tool in nginx openssl python3; do
  command -v "$tool" > /dev/null || { echo "tls_bench: $tool is missing (scripts/install-deps.sh)" >&2; exit 2; }
done
[ -x "$BIN" ] || { echo "tls_bench: $BIN is missing: build it first" >&2; exit 2; }
[ -x "$LOAD" ] || { echo "tls_bench: $LOAD is missing: make tls_load (LEAKGUARD_BENCH=ON)" >&2; exit 2; }

tmp=$(mktemp -d /tmp/leakguard-tls-bench.XXXXXX)
nginx_pid=""
proxy_pid=""
relay_pid=""
trap stop_servers_and_clean EXIT




# --- The origin's PKI: a test CA and a certificate for localhost / 127.0.0.1.
make_origin_pki "$tmp/pki" "tls_bench origin CA"

# --- nginx with TLS: its own prefix, config and logs in the temp dir; a non-daemon child.
mkdir -p "$tmp/nginx/www" "$tmp/nginx/logs"
head -c "$FILE_BYTES" /dev/zero | tr '\0' 'a' > "$tmp/nginx/www/file"
# The worker drops to an unprivileged user when started as root: let it reach the file (only it:
# the keys stay private).
chmod a+x "$tmp"
chmod -R a+rX "$tmp/nginx"
nginx_port=$(free_port)
write_nginx_conf "" "  server {
    listen 127.0.0.1:$nginx_port ssl;
    ssl_certificate $tmp/pki/origin.pem;
    ssl_certificate_key $tmp/pki/origin.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_tickets $ORIGIN_TICKETS;
    root $tmp/nginx/www;
  }"
pin_load=()
pin_proxy=()
proxy_workers=0
if [ "$PIN" = 1 ]; then
  command -v taskset > /dev/null || { echo "tls_bench: PIN=1 needs taskset (util-linux)" >&2; exit 2; }
  pin_load=(taskset -c 0)
  pin_proxy=(taskset -c 1)
  proxy_workers=1
fi
"${pin_load[@]}" nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/logs/error.log" &
nginx_pid=$!
wait_for_port "$nginx_port"
nginx_worker=$(pgrep -P "$nginx_pid" | head -1)

# --- leakguard: a CA of its own, interception of everything, events to a file.
"$BIN" ca init --dir "$tmp/ca" > /dev/null
cat > "$tmp/leakguard.yaml" << EOF
listen: ["127.0.0.1:0"]
clients: { allow: ["127.0.0.0/8"] }
events: { path: "$tmp/events.jsonl" }
workers: $proxy_workers
tls:
  intercept: all
  ca_dir: "$tmp/ca"
  upstream_ca: "$tmp/pki/origin-ca.pem"
EOF

# --- nginx as a TLS-terminating reverse proxy in front of the same origin (RELAY=1): its own
# prefix; the client trusts the origin's CA, whose certificate the relay presents.
relay_port=""
if [ "$RELAY" = 1 ]; then
  mkdir -p "$tmp/relay/logs"
  relay_port=$(free_port)
  NGINX_DIR=$tmp/relay NGINX_WORKERS=$([ "$PIN" = 1 ] && echo 1 || echo 2) write_nginx_conf "  upstream origin {
    server 127.0.0.1:$nginx_port;
    keepalive 128;
    keepalive_requests 1000000;
  }" "  server {
    listen 127.0.0.1:$relay_port ssl;
    ssl_certificate $tmp/pki/origin.pem;
    ssl_certificate_key $tmp/pki/origin.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      proxy_pass https://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_ssl_verify on;
      proxy_ssl_trusted_certificate $tmp/pki/origin-ca.pem;
      proxy_ssl_name localhost;
      proxy_ssl_server_name on;
      proxy_ssl_session_reuse on;
    }
  }"
  "${pin_proxy[@]}" nginx -p "$tmp/relay" -c "$tmp/relay/nginx.conf" -e "$tmp/relay/logs/error.log" &
  relay_pid=$!
  wait_for_port "$relay_port"
fi

start_proxy() {  # sets proxy_pid and proxy_port
  rm -f "$tmp/events.jsonl"
  start_leakguard "$tmp/leakguard.yaml" "${pin_proxy[@]}"
}

stop_proxy() {
  kill "$proxy_pid" 2> /dev/null && wait "$proxy_pid" 2> /dev/null || true
  proxy_pid=""
}

results="$tmp/results"
: > "$results"

ticks_of() {  # CPU ticks of the given processes together
  local total=0 p
  for p in "$@"; do total=$((total + $(cpu_ticks "$p"))); done
  echo "$total"
}

# One measurement: $1 direct|proxied|relay, $2 keepalive|handshake. Appends "mode path rps p50 p99 cpu_us_req".
measure() {
  local path=$1 mode=$2 connections=$CONNECTIONS pid=$nginx_worker proxy_args=() target="localhost:$nginx_port"
  [ "$mode" = handshake ] && connections=$HANDSHAKE_CONNECTIONS
  if [ "$path" = relay ]; then
    target="localhost:$relay_port"
    pid=$(pgrep -P "$relay_pid" | tr '\n' ' ')  # its workers
  fi
  if [ "$path" = proxied ]; then
    start_proxy
    pid=$proxy_pid
    proxy_args=(--proxy "127.0.0.1:$proxy_port")
    # Warm the leaf cache (and check the path works) before measuring.
    "$LOAD" --connect "localhost:$nginx_port" "${proxy_args[@]}" --cafile "$tmp/ca/ca.pem" --path /file \
      --mode handshake --connections 1 --threads 1 --duration 0.3 > /dev/null
  fi
  local cafile="$tmp/pki/origin-ca.pem"
  [ "$path" = proxied ] && cafile="$tmp/ca/ca.pem"
  local before after line perf_pid=""
  if [ -n "$PERF_DIR" ] && [ "$path" = proxied ]; then
    # Samples of leakguard alone during the measurement, with call graphs, for `perf report -i`.
    mkdir -p "$PERF_DIR"
    perf record -q -F 999 --call-graph dwarf,16384 -p "$pid" -o "$PERF_DIR/$mode.perf.data" 2> /dev/null &
    perf_pid=$!
  fi
  before=$(ticks_of $pid)
  line=$("${pin_load[@]}" "$LOAD" --connect "$target" "${proxy_args[@]}" --cafile "$cafile" --path /file --mode "$mode" \
    --connections "$connections" --threads 2 --duration "$DURATION")
  after=$(ticks_of $pid)
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid" 2> /dev/null || true
    wait "$perf_pid" 2> /dev/null || true
  fi
  [ "$path" = proxied ] && stop_proxy
  local requests rps p50 p99 errors
  requests=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<< "$line")
  errors=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<< "$line")
  rps=$(sed -n 's/.* rps=\([0-9]*\).*/\1/p' <<< "$line")
  p50=$(sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p' <<< "$line")
  p99=$(sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p' <<< "$line")
  local cpu_us_req
  cpu_us_req=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
    'BEGIN { printf "%.0f", (n > 0 ? t * 1e6 / hz / n : 0) }')
  printf '%-9s %-8s rps=%-7s p50_ms=%-6s p99_ms=%-7s cpu_us_req=%-5s errors=%s  (%s)\n' "$mode" "$path" "$rps" "$p50" \
    "$p99" "$cpu_us_req" "$errors" "$(uptime | sed 's/.*load average: //')"
  echo "$mode $path $rps $p50 $p99 $cpu_us_req" >> "$results"
}

echo "origin: nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), https://localhost:$nginx_port/file ($FILE_BYTES bytes)"
echo "origin session tickets: $ORIGIN_TICKETS; pinned: $PIN"
echo "keep-alive: $CONNECTIONS connections; handshake: $HANDSHAKE_CONNECTIONS connections; $DURATION s per measurement"
echo "cpu_us_req: nginx worker for direct, leakguard for proxied, the relay nginx's workers for relay"
for run in $(seq "$RUNS"); do
  echo "--- run $run"
  measure direct keepalive
  measure proxied keepalive
  if [ "$RELAY" = 1 ]; then measure relay keepalive; fi
  measure direct handshake
  measure proxied handshake
done

echo "--- medians over $RUNS runs"
python3 - "$results" << 'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
median = {}
for mode in ("keepalive", "handshake"):
    for path in ("direct", "proxied", "relay"):
        values = [r for r in rows if r[0] == mode and r[1] == path]
        if not values:
            continue
        median[mode, path] = [statistics.median(float(r[i]) for r in values) for i in (2, 3, 4, 5)]
        rps, p50, p99, cpu = median[mode, path]
        print(f"{mode:9} {path:8} rps={rps:<7.0f} p50_ms={p50:<6.2f} p99_ms={p99:<7.2f} cpu_us_req={cpu:.0f}")
    ratio = median[mode, "proxied"][0] / median[mode, "direct"][0]
    target = 0.5 if mode == "keepalive" else 0.4
    print(f"{mode:9} proxied/direct = {ratio:.0%} (target {target:.0%}: {'met' if ratio >= target else 'NOT met'})")
    if (mode, "relay") in median:
        print(f"{mode:9} nginx relay/direct = {median[mode, 'relay'][0] / median[mode, 'direct'][0]:.0%}; "
              f"leakguard/nginx relay = {median[mode, 'proxied'][0] / median[mode, 'relay'][0]:.0%}")
EOF
