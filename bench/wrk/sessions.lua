-- wrk script for the load runs of bench/run.sh.
--
--   wrk -t2 -c32 -d10s -s sessions.lua http://127.0.0.1:PORT/counter -- N
--
-- Many sessions (default): each thread sends its first requests without a
-- cookie and keeps the first N cookies the server sets, then sends them
-- round-robin, each request with one of them. wrk cannot tell a script which
-- connection sends, so run.sh passes N = 4 x the thread's connections: with
-- at most one request in flight per connection, a session comes round again
-- only after its previous request has finished (unless that one was very
-- slow), so sessions are not shared by concurrent requests. A cookie
-- store's cookie is kept as first set: every request still opens and
-- re-seals it.
--
-- One shared session: WRK_COOKIE="name=value" makes every request of every
-- connection send that one cookie.
--
-- done() prints one machine-readable line that run.sh reads:
--   RESULT requests=... seconds=... rps=... non2xx=... errors=... p50_us=... p99_us=... sessions=...

local shared = os.getenv("WRK_COOKIE")
if shared == "" then shared = nil end
local wanted = 1
local cookies = {}
local turn = 0

function init(args)
  wanted = tonumber(args[1] or "1") or 1
end

function request()
  if shared then
    return wrk.format("GET", nil, { Cookie = shared })
  end
  if #cookies < wanted then
    return wrk.format("GET", nil)
  end
  turn = turn % #cookies + 1
  return wrk.format("GET", nil, { Cookie = cookies[turn] })
end

function response(status, headers, body)
  if shared or #cookies >= wanted then
    return
  end
  local sc = headers["Set-Cookie"] or headers["set-cookie"]
  if sc then
    cookies[#cookies + 1] = sc:match("^[^;]+")
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f non2xx=%d errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, secs, summary.requests / secs, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
