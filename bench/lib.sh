# Helpers shared by the benchmark scripts (sourced, not run). The caller sets BENCH_NAME for its
# messages and `tmp` for its temp dir.

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_for_port() {  # until something accepts on 127.0.0.1:$1, at most 10 s
  for _ in $(seq 100); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), timeout=0.2).close()" 2> /dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "$BENCH_NAME: nothing listens on 127.0.0.1:$1" >&2
  return 1
}

cpu_ticks() {  # utime + stime of a process (all its threads), in clock ticks
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# Writes nginx.conf in $NGINX_DIR (default $tmp/nginx) for $NGINX_WORKERS workers (default 1): no
# access log, long keep-alive, every temp path inside that folder. $1: extra http-level lines,
# $2: the server block.
write_nginx_conf() {
  local dir=${NGINX_DIR:-$tmp/nginx}
  cat > "$dir/nginx.conf" << EOF2
worker_processes ${NGINX_WORKERS:-1};
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  tcp_nodelay on;
$1
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  default_type application/octet-stream;
$2
}
EOF2
}

# A test CA ($1/origin-ca.pem) and a certificate for localhost / 127.0.0.1 signed by it
# ($1/origin.pem, origin.key), for TLS origins. $2: the CA's name.
make_origin_pki() {
  mkdir -p "$1"
  (
    cd "$1"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout origin-ca.key -out origin-ca.pem \
      -days 2 -subj "/CN=$2" -addext basicConstraints=critical,CA:TRUE \
      -addext keyUsage=critical,keyCertSign,cRLSign 2> /dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ext
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout origin.key -out origin.csr \
      -subj "/CN=localhost" 2> /dev/null
    openssl x509 -req -in origin.csr -CA origin-ca.pem -CAkey origin-ca.key -CAcreateserial -days 2 -out origin.pem \
      -extfile ext 2> /dev/null
  )
}

stop_and_wait() {  # SIGTERM to pid $1 (if set) and wait until it is gone
  [ -n "$1" ] || return 0
  kill "$1" 2> /dev/null || true
  while kill -0 "$1" 2> /dev/null; do sleep 0.05; done
}

# start_leakguard CONFIG [PREFIX...]: runs PREFIX "$BIN" run -c CONFIG in the background, stderr in
# $tmp/leakguard.err, and sets proxy_pid and proxy_port from its `listening on 127.0.0.1:PORT` line
# (at most 30 s). PREFIX execs its arguments: taskset -c 1, env VAR=value, ...
start_leakguard() {
  local config=$1
  shift
  rm -f "$tmp/leakguard.err"
  "$@" "$BIN" run -c "$config" 2> "$tmp/leakguard.err" &
  proxy_pid=$!
  proxy_port=""
  for _ in $(seq 300); do
    proxy_port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/leakguard.err" | head -1)
    [ -n "$proxy_port" ] && return 0
    kill -0 "$proxy_pid" 2> /dev/null || { cat "$tmp/leakguard.err" >&2; exit 1; }
    sleep 0.1
  done
  echo "$BENCH_NAME: leakguard did not listen" >&2
  exit 1
}

# The EXIT trap of a script that runs leakguard ($proxy_pid) and nginx ($nginx_pid, and
# $relay_pid when set: a second nginx) out of the temp folder $tmp: both stopped, the folder gone.
stop_servers_and_clean() {
  [ -n "${proxy_pid:-}" ] && kill "$proxy_pid" 2> /dev/null && wait "$proxy_pid" 2> /dev/null || true
  local pid
  for pid in "${nginx_pid:-}" "${relay_pid:-}"; do
    [ -n "$pid" ] && kill -QUIT "$pid" 2> /dev/null && wait "$pid" 2> /dev/null || true
  done
  rm -rf "$tmp"
}
