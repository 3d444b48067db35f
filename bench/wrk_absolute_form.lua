-- wrk through an explicit HTTP proxy: the request line carries the absolute-form target
-- ("GET http://127.0.0.1:PORT/file HTTP/1.1") while wrk connects to the proxy named on its command
-- line. The target comes from LEAKGUARD_BENCH_TARGET (bench/http_proxy_bench.sh sets it).
-- wrk.format() copies wrk.path into the request line as it is and builds the request once per
-- thread in wrk.init(), so setting wrk.path when the script loads is enough. wrk's Host header
-- names the proxy; leakguard replaces it with the target's authority (RFC 9112 section 3.2.2).
-- No response() callback: it makes wrk build Lua tables per response and would slow the client
-- in the proxied runs only. wrk itself reports "Non-2xx or 3xx responses"; the script checks it.
local target = os.getenv("LEAKGUARD_BENCH_TARGET")
if not target or not target:match("^http://") then
  error("LEAKGUARD_BENCH_TARGET must be an absolute http:// URL")
end
wrk.path = target
