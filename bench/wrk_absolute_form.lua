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

-- LEAKGUARD_BENCH_BODY_BYTES: POST a form body of about that many bytes (no identifier in it), so
-- inspection has a body to decode; the inspection benchmark (issue 4) uses it.
local body_bytes = tonumber(os.getenv("LEAKGUARD_BENCH_BODY_BYTES") or "0")
if body_bytes > 0 then
  local pairs_text = {}
  local size = 0
  local i = 0
  while size < body_bytes do
    local pair = string.format("field%d=value-%08d", i, i * 7919)
    table.insert(pairs_text, pair)
    size = size + #pair + 1
    i = i + 1
  end
  wrk.method = "POST"
  wrk.body = table.concat(pairs_text, "&")
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
