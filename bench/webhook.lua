-- wrk script for invitebot's webhook benchmark (scripts/bench).
--
--   wrk -t1 -cN -dS --latency -s bench/webhook.lua http://127.0.0.1:PORT/webhook \
--       -- BODY_FILE EVENT SIGNATURE RUN_TAG [repeat]
--
-- Sends BODY_FILE's exact bytes with `X-Hub-Signature-256: SIGNATURE` (computed by the caller
-- over those bytes, or a wrong one for the bad-signature scenario) and a unique
-- `X-GitHub-Delivery` per request (`RUN_TAG-THREAD-COUNTER`): invitebot answers a delivery id
-- it has seen with 200 and does no work, so repeated ids measure the duplicate path. With
-- `repeat`, every request carries the same id (`RUN_TAG-THREAD`), as GitHub's "Redeliver" does.
-- done() prints one machine-readable line:
--   RESULT requests=N seconds=S rps=R p50_ms=A p90_ms=B p99_ms=C max_ms=D non2xx=E errors=F

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", tostring(thread_count))
  table.insert(threads, thread)
end

local body, event, signature, tag, repeated
local counter = 0

function init(args)
  local file = assert(io.open(args[1], "rb"))
  body = file:read("*a")
  file:close()
  event = args[2]
  signature = args[3]
  tag = (args[4] or "run") .. "-" .. (tid or "1")
  repeated = args[5] == "repeat"
end

function request()
  counter = counter + 1
  local id = repeated and tag or (tag .. "-" .. counter)
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "GitHub-Hookshot/bench",
    ["X-GitHub-Event"] = event,
    ["X-GitHub-Delivery"] = id,
    ["X-Hub-Signature-256"] = signature,
  }, body)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx=%d errors=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
