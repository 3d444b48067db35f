#!/usr/bin/env bash
# HTTP/2 interception benchmark (issue 14): h2load against the same local nginx (TLS, http2, a 1 KiB
# file), directly and through leakguard's interception, in one run; mitmproxy's h2 interception
# beside them (Debian's mitmproxy, installed by install-deps.sh). Three figures:
#   keepalive  h2load -c 50 -m 10: 50 h2 connections, 10 concurrent streams on each, DURATION s
#   connect    new TLS connections per second with h2: CONNECT_TOTAL connections in batches of
#              CONNECT_BATCH, one request each (handshake, ALPN h2, one stream, close)
#   idle       memory per idle h2 connection: IDLE_CONNECTIONS h2 connections held open after one
#              request each, leakguard's VmRSS before and after; the same with HTTP/1.1 as baseline
# Prints req/s (or connections/s), h2load's mean request time, CPU µs per request of the measured
# server, per run and as medians, and the ratios to direct against the issue's targets.
#
#   sudo bench/h2_bench.sh                               # LEAKGUARD_BIN=build/leakguard, 3 runs of 10 s
#   LEAKGUARD_BIN=build-bench/leakguard RUNS=3 DURATION=10 bench/h2_bench.sh
#
# Why it runs in a network namespace: h2load and nghttp have no proxy support (no CONNECT), so the
# load reaches leakguard as a phone's traffic does, through an nftables redirect (transparent mode).
# The script makes its own namespace with only loopback in it; inside it nginx listens on two ports
# (and a third for mitmproxy), and a `nat output` rule redirects connections *from uid 65534* (the
# load client, run with setpriv) to the intercepted port on to leakguard; leakguard's own upstream
# connection (uid 0) is not redirected. Direct runs go to the other port. Needs root, ip, nft.
#
# Choices, as in tls_bench.sh (2 cores shared by client, nginx and proxy): nginx worker_processes 1,
# access_log off, EC P-256 certificate from a test CA, TLS 1.3; leakguard `tls.intercept: all`,
# events to a file, no device profiles, default workers, a fresh process per measurement; h2load 2
# threads, --warm-up-time 1s; runs interleaved; `uptime` printed per measurement. h2load does not
# verify certificates, so neither the forged leaf nor mitmproxy's is checked by the client; leakguard
# verifies nginx against the test CA (mitmproxy runs with --ssl-insecure: an upper bound for it).
# The URL names `localhost` (h2load's --connect-to dials 127.0.0.1), so the ClientHello carries SNI.
# h2load offers ALPN h2 alone (--npn-list=h2), as gRPC stacks do. A leakguard that does not
# intercept h2 passes such connections through (`passthrough: alpn`): the script reads its `tls`
# events and labels those rows `passthrough`, not `leakguard` (and `leakguard-h1` for connections
# intercepted as HTTP/1.1).
# Only loopback inside the namespace; every load is bounded; everything started is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_NAME=h2_bench
source bench/lib.sh

BIN=$(realpath "${LEAKGUARD_BIN:-build/leakguard}")
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-50}
STREAMS=${STREAMS:-10}
CONNECT_TOTAL=${CONNECT_TOTAL:-1000}
CONNECT_BATCH=${CONNECT_BATCH:-100}
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-300}
FILE_BYTES=${FILE_BYTES:-1024}
MITM=${MITM:-auto}   # auto: measure mitmproxy when mitmdump is installed; 0: never
PY=/usr/bin/python3

[ "$(id -u)" = 0 ] || { echo "h2_bench: needs root (a network namespace and nftables)" >&2; exit 2; }
for tool in ip nft nginx h2load openssl setpriv "$PY"; do
  command -v "$tool" > /dev/null || { echo "h2_bench: $tool is missing (scripts/install-deps.sh)" >&2; exit 2; }
done
"$PY" -c 'import h2' 2> /dev/null || { echo "h2_bench: python3-h2 is missing (scripts/install-deps.sh)" >&2; exit 2; }
[ -x "$BIN" ] || { echo "h2_bench: $BIN is missing: build it first" >&2; exit 2; }
use_mitm=0
if [ "$MITM" != 0 ] && command -v mitmdump > /dev/null; then use_mitm=1; fi

tmp=$(mktemp -d /tmp/leakguard-h2-bench.XXXXXX)
netns=lgh2bench$$
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null && wait "$p" 2> /dev/null || true; done
  ip netns pids "$netns" 2> /dev/null | xargs -r kill 2> /dev/null || true
  ip netns del "$netns" 2> /dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
ns() { ip netns exec "$netns" "$@"; }
as_load() { ns setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }  # redirected to the proxy

ip netns add "$netns"
ns ip link set lo up

# --- The origin's PKI, readable by nobody but root (nginx's master reads it).
make_origin_pki "$tmp/pki" "h2_bench origin CA"

# --- nginx, h2 on TLS, on three ports inside the namespace (nothing else can hold them there).
direct_port=18443 intercept_port=18444 mitm_target_port=18445 proxy_port=18080 mitm_port=18081
mkdir -p "$tmp/nginx/www" "$tmp/nginx/logs"
head -c "$FILE_BYTES" /dev/zero | tr '\0' 'a' > "$tmp/nginx/www/file"
chmod a+x "$tmp"
chmod -R a+rX "$tmp/nginx"
listen=""
for port in $direct_port $intercept_port $mitm_target_port; do
  listen+="    listen 127.0.0.1:$port ssl http2;
"
done
write_nginx_conf "  http2_max_concurrent_streams 128;" "  server {
$listen    ssl_certificate $tmp/pki/origin.pem;
    ssl_certificate_key $tmp/pki/origin.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $tmp/nginx/www;
  }"
ns nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/logs/error.log" &
pids+=($!)
ns_wait_for_port() {
  for _ in $(seq 100); do
    ns "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $1), timeout=0.2).close()" 2> /dev/null && return 0
    sleep 0.1
  done
  echo "h2_bench: nothing listens on 127.0.0.1:$1 in the namespace" >&2
  return 1
}
ns_wait_for_port "$direct_port"
nginx_worker=$(pgrep -P "$(cat "$tmp/nginx/nginx.pid")" | head -1)

# --- The redirects: the load client's connections to the intercepted ports go to the proxies.
ns nft -f - << EOF
table inet h2bench {
  chain output {
    type nat hook output priority -100; policy accept;
    meta skuid 65534 tcp dport $intercept_port redirect to :$proxy_port
    meta skuid 65534 tcp dport $mitm_target_port redirect to :$mitm_port
  }
}
EOF

# --- leakguard: a CA of its own, interception of everything, events to a file.
"$BIN" ca init --dir "$tmp/ca" > /dev/null
cat > "$tmp/leakguard.yaml" << EOF
listen: ["127.0.0.1:$proxy_port"]
clients: { allow: ["127.0.0.0/8"] }
events: { path: "$tmp/events.jsonl" }
tls:
  intercept: all
  ca_dir: "$tmp/ca"
  upstream_ca: "$tmp/pki/origin-ca.pem"
EOF
proxy_pid=""
start_proxy() {
  rm -f "$tmp/events.jsonl"
  ns "$BIN" run -c "$tmp/leakguard.yaml" 2> "$tmp/leakguard.err" &
  local wrapper=$!
  pids+=("$wrapper")
  ns_wait_for_port "$proxy_port"
  proxy_pid=$(pgrep -f "$BIN run -c $tmp/leakguard.yaml" -n)
}
stop_proxy() {
  stop_and_wait "$proxy_pid"
  proxy_pid=""
}
mitm_pid=""
start_mitm() {
  ns mitmdump --mode transparent --listen-host 127.0.0.1 --listen-port "$mitm_port" --ssl-insecure -q \
    --set confdir="$tmp/mitm" --set http2=true > "$tmp/mitm.log" 2>&1 &
  pids+=($!)
  ns_wait_for_port "$mitm_port"
  mitm_pid=$(pgrep -f "mitmdump --mode transparent --listen-host 127.0.0.1 --listen-port $mitm_port" -n)
}
stop_mitm() {
  stop_and_wait "$mitm_pid"
  mitm_pid=""
}

# What leakguard did with the last measurement's connections: "leakguard" (intercepted, h2 on the
# client leg), "leakguard-h1" (intercepted but HTTP/1.1), "passthrough" (relayed undecrypted).
leakguard_label() {
  if grep -q '"event":"intercepted"' "$tmp/events.jsonl" 2> /dev/null; then
    # One grep: `grep ... | grep -q` under pipefail fails when -q stops reading a large file early
    # (SIGPIPE), which labelled h2 runs as HTTP/1.1. Event keys are written sorted: alpn first.
    if grep -q '"alpn":"h2".*"event":"intercepted"' "$tmp/events.jsonl"; then echo leakguard; else echo leakguard-h1; fi
  else
    echo passthrough
  fi
}

ticks_of() { local total=0 p; for p in "$@"; do total=$((total + $(cpu_ticks "$p"))); done; echo "$total"; }
HZ=$(getconf CLK_TCK)
results="$tmp/results"
: > "$results"

# h2load's summary: "finished in 10.00s, 12345.67 req/s, ..." and "requests: N total, N started,
# N done, N succeeded, F failed, E errored, T timeout"; mean of "time for request".
h2load_figures() {  # stdin: h2load output; prints "seconds req_s succeeded failed mean_ms"
  awk '
    function ms(v) { sub(/,$/, "", v); if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000; if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0; if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000; return v }
    $1 == "finished" { secs = ms($3) / 1000; rps = $4 + 0 }
    $1 == "requests:" { ok = $8; failed = $10 + $12 + $14 }
    $1 == "time" && $3 == "request:" { mean = ms($6) }
    END { printf "%s %s %s %s %.3f\n", secs, rps, ok, failed, mean }'
}

# One keep-alive measurement: $1 direct|leakguard|mitmproxy.
measure_keepalive() {
  local path=$1 port=$direct_port pid=$nginx_worker runner=(ns)
  case "$path" in
    leakguard) start_proxy; port=$intercept_port; pid=$proxy_pid; runner=(as_load) ;;
    mitmproxy) start_mitm; port=$mitm_target_port; pid=$mitm_pid; runner=(as_load) ;;
  esac
  local before after out
  before=$(ticks_of "$pid")
  out=$("${runner[@]}" h2load --npn-list=h2 -c "$CONNECTIONS" -m "$STREAMS" -t 2 -D "$DURATION" --warm-up-time=1 \
    --connect-to="127.0.0.1:$port" "https://localhost:$port/file")
  after=$(ticks_of "$pid")
  echo "$out" >> "$tmp/h2load.log"
  local label=$path
  if [ "$path" = leakguard ]; then label=$(leakguard_label); stop_proxy; fi
  [ "$path" = mitmproxy ] && stop_mitm
  read -r secs rps ok failed mean <<< "$(h2load_figures <<< "$out")"
  local cpu
  cpu=$(awk -v t=$((after - before)) -v hz="$HZ" -v n="$ok" 'BEGIN { printf "%.0f", (n > 0 ? t * 1e6 / hz / n : 0) }')
  printf 'keepalive %-11s req/s=%-8s mean_ms=%-7s cpu_us_req=%-5s ok=%s failed=%s  (%s)\n' "$label" "$rps" "$mean" \
    "$cpu" "$ok" "$failed" "$(uptime | sed 's/.*load average: //')"
  echo "keepalive $label $rps $mean $cpu" >> "$results"
}

# New TLS connections per second with h2: batches of CONNECT_BATCH connections, one request each.
measure_connect() {
  local path=$1 port=$direct_port pid=$nginx_worker runner=(ns)
  case "$path" in
    leakguard) start_proxy; port=$intercept_port; pid=$proxy_pid; runner=(as_load) ;;
    mitmproxy) start_mitm; port=$mitm_target_port; pid=$mitm_pid; runner=(as_load) ;;
  esac
  local before after secs_total=0 ok_total=0 failed_total=0 out
  before=$(ticks_of "$pid")
  for _ in $(seq $((CONNECT_TOTAL / CONNECT_BATCH))); do
    out=$("${runner[@]}" h2load --npn-list=h2 -c "$CONNECT_BATCH" -n "$CONNECT_BATCH" -m 1 -t 2 \
      --connect-to="127.0.0.1:$port" "https://localhost:$port/file")
    read -r secs _ ok failed _ <<< "$(h2load_figures <<< "$out")"
    secs_total=$(awk -v a="$secs_total" -v b="$secs" 'BEGIN { print a + b }')
    ok_total=$((ok_total + ok))
    failed_total=$((failed_total + failed))
  done
  after=$(ticks_of "$pid")
  local label=$path
  if [ "$path" = leakguard ]; then label=$(leakguard_label); stop_proxy; fi
  [ "$path" = mitmproxy ] && stop_mitm
  local cps cpu
  cps=$(awk -v n="$ok_total" -v s="$secs_total" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
  cpu=$(awk -v t=$((after - before)) -v hz="$HZ" -v n="$ok_total" 'BEGIN { printf "%.0f", (n > 0 ? t * 1e6 / hz / n : 0) }')
  printf 'connect   %-11s conn/s=%-7s cpu_us_conn=%-6s ok=%s failed=%s  (%s)\n' "$label" "$cps" "$cpu" "$ok_total" \
    "$failed_total" "$(uptime | sed 's/.*load average: //')"
  echo "connect $label $cps 0 $cpu" >> "$results"
}

# Memory per idle connection through leakguard: $1 h2|http/1.1.
cat > "$tmp/idle.py" << 'EOF'
"""Opens N TLS connections (ALPN argv[3]) to 127.0.0.1:PORT, one request on each, then holds them
open until stdin closes. Prints "ready" once all are open and answered."""
import socket, ssl, sys
import h2.config, h2.connection, h2.events
port, count, alpn = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
context = ssl.create_default_context()
context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
context.set_alpn_protocols([alpn])
held = []
for _ in range(count):
    sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30), server_hostname="localhost")
    if alpn == "h2":
        assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        conn.send_headers(1, [(":method", "GET"), (":scheme", "https"), (":authority", "localhost"), (":path", "/file")],
                          end_stream=True)
        sock.sendall(conn.data_to_send())
        done = False
        while not done:
            for event in conn.receive_data(sock.recv(65536)):
                done = done or isinstance(event, h2.events.StreamEnded)
            sock.sendall(conn.data_to_send())
    else:
        sock.sendall(b"GET /file HTTP/1.1\r\nHost: localhost\r\n\r\n")
        answer = b""
        while not answer.endswith(b"a" * 16):
            answer += sock.recv(65536)
    held.append(sock)
print("ready", flush=True)
sys.stdin.read()
EOF
chmod a+r "$tmp/idle.py"

measure_idle() {  # $1: h2 | http/1.1
  start_proxy
  local before after
  before=$(awk '/^VmRSS:/ {print $2}' "/proc/$proxy_pid/status")
  exec {idle_in}> >(as_load "$PY" "$tmp/idle.py" "$intercept_port" "$IDLE_CONNECTIONS" "$1" > "$tmp/idle.out")
  for _ in $(seq 600); do grep -q ready "$tmp/idle.out" 2> /dev/null && break; sleep 0.1; done
  grep -q ready "$tmp/idle.out" || { echo "h2_bench: the idle connections did not open" >&2; exit 1; }
  # Idle means quiet: leakguard gives a TLS connection's record buffers back after 2 s without
  # traffic (Session::tls_quiet_after) and the heap's free pages back once a second, so the
  # reading waits for both.
  sleep 4
  after=$(awk '/^VmRSS:/ {print $2}' "/proc/$proxy_pid/status")
  exec {idle_in}>&-
  local label
  label=$(leakguard_label)
  stop_proxy
  local per
  per=$(awk -v a="$after" -v b="$before" -v n="$IDLE_CONNECTIONS" 'BEGIN { printf "%.1f", (a - b) / n }')
  printf 'idle      %-11s alpn=%-8s connections=%s rss_before_kib=%s rss_after_kib=%s kib_per_connection=%s\n' \
    "$label" "$1" "$IDLE_CONNECTIONS" "$before" "$after" "$per"
  echo "idle-$1 $label $per 0 0" >> "$results"
}

echo "# h2 benchmark: $(date -u +%FT%TZ), $(nproc) cores, $(uname -r); binary $BIN"
echo "# origin: nginx $(nginx -v 2>&1 | sed 's/.*nginx\///') http2, https://localhost/file ($FILE_BYTES bytes); h2load $(h2load --version | awk '{print $2}')"
echo "# keepalive: h2load -c $CONNECTIONS -m $STREAMS -t 2 -D $DURATION; connect: $CONNECT_TOTAL connections in batches of $CONNECT_BATCH, one request each; idle: $IDLE_CONNECTIONS connections"
echo "# mitmproxy: $([ $use_mitm = 1 ] && mitmdump --version 2>&1 | head -1 || echo 'not installed (not in install-deps.sh: it upgrades libbrotli on Debian 12)')"
for run in $(seq "$RUNS"); do
  echo "--- run $run"
  measure_keepalive direct
  measure_keepalive leakguard
  [ $use_mitm = 1 ] && measure_keepalive mitmproxy
  measure_connect direct
  measure_connect leakguard
  [ $use_mitm = 1 ] && measure_connect mitmproxy
done
measure_idle h2
measure_idle http/1.1

echo "--- medians over $RUNS runs"
"$PY" - "$results" << 'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
def median(kind, label, column):
    values = [float(r[column]) for r in rows if r[0] == kind and r[1] == label]
    return statistics.median(values) if values else None
labels = sorted({r[1] for r in rows if r[1] != "direct"}, key=lambda l: (l != "leakguard", l))
ratio = lambda value, direct: f"{value / direct:.0%}" if direct else "-"
for kind, unit, target in (("keepalive", "req/s", 0.45), ("connect", "conn/s", None)):
    direct = median(kind, "direct", 2)
    print(f"{kind:9} direct      {unit}={direct:<8.0f} cpu_us={median(kind, 'direct', 4):.0f}")
    for label in labels:
        value = median(kind, label, 2)
        if value is None:
            continue
        verdict = f" (target {target:.0%}: {'met' if direct and value / direct >= target else 'NOT met'})" \
            if target and label == "leakguard" else ""
        print(f"{kind:9} {label:11} {unit}={value:<8.0f} cpu_us={median(kind, label, 4):.0f} "
              f"{label}/direct = {ratio(value, direct)}{verdict}")
for alpn in ("h2", "http/1.1"):
    for label in labels:
        value = median(f"idle-{alpn}", label, 2)
        if value is not None:
            target = " (target <= 100 KiB: " + ("met" if value <= 100 else "NOT met") + ")" if alpn == "h2" and label == "leakguard" else ""
            print(f"idle      {label:11} {alpn:8} {value:.1f} KiB per connection{target}")
EOF
