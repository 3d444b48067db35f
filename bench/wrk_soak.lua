-- wrk for bench/soak.sh: absolute-form requests through leakguard as an explicit proxy (as in
-- wrk_absolute_form.lua), a fixed number of them, every LEAK_EVERY-th one carrying the profiled
-- phone's IMEI in its query, optionally with `Connection: close` (a new connection per request).
-- Arguments after `--`: TARGET REQUESTS_PER_THREAD LEAK_EVERY IMEI CLOSE(0|1) DONE_FILE.
-- A thread that has its answers stops and appends a line to DONE_FILE: wrk itself only ends when
-- its -d duration is over or on SIGINT, which soak.sh sends once every thread has written.
-- done() prints one line soak.sh reads: "soak: requests=N non200=N errors=connect,read,write,timeout".
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  target = args[1]
  quota = tonumber(args[2])
  leak_every = tonumber(args[3])
  imei = args[4]
  close = args[5] == "1"
  done_file = args[6]
  sent = 0
  answered = 0
  non200 = 0
  local headers = {}
  if close then headers["Connection"] = "close" end
  clean = wrk.format("GET", target .. "/file?lang=en", headers)
  leaking = wrk.format("GET", target .. "/file?lang=en&imei=" .. imei, headers)
end

function request()
  sent = sent + 1
  if sent % leak_every == 0 then return leaking end
  return clean
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then non200 = non200 + 1 end
  if answered == quota then
    wrk.thread:stop()
    local file = io.open(done_file, "a")
    file:write("done\n")
    file:close()
  end
end

function done(summary, latency, requests)
  local answered_all, non200_all = 0, 0
  for _, thread in ipairs(threads) do
    answered_all = answered_all + thread:get("answered")
    non200_all = non200_all + thread:get("non200")
  end
  local e = summary.errors
  io.write(string.format("soak: requests=%d non200=%d errors=%d,%d,%d,%d\n", answered_all, non200_all,
                         e.connect, e.read, e.write, e.timeout))
end
