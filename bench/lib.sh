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
