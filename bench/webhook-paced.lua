-- wrk script: bench/webhook.lua's requests, each connection pausing before each request.
--
--   wrk -t1 -cN -dS --latency -s bench/webhook-paced.lua http://127.0.0.1:PORT/webhook \
--       -- BODY_FILE EVENT SIGNATURE RUN_TAG vary SECRET PAUSE_MS
--
-- Each connection waits between 0 and 2 x PAUSE_MS (at random, PAUSE_MS on average) before
-- each request, so the load is offered at a set rate (N x 1000 / PAUSE_MS requests a second,
-- as long as answers take much less than PAUSE_MS) instead of as fast as the server answers:
-- the latency of a server that keeps up, not the queue of one that is saturated (where N
-- connections / throughput is the mean latency whatever the server does). The random pause
-- keeps the connections from sending in step (a fixed one would send bursts of N requests at
-- once). wrk measures each request from when it is sent.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "webhook.lua")

local pause_ms
local init_requests = init

function init(args)
  init_requests(args)
  math.randomseed(os.time() + tonumber(tid or "1"))
  pause_ms = assert(tonumber(args[7]), "the pause in milliseconds comes after the secret")
end

function delay()
  return math.random(0, 2 * pause_ms)
end
