-- wrk script for invitebot's webhook benchmark (scripts/bench).
--
--   wrk -t1 -cN -dS --latency -s bench/webhook.lua http://127.0.0.1:PORT/webhook \
--       -- BODY_FILE EVENT SIGNATURE RUN_TAG [repeat | vary SECRET]
--
-- Sends BODY_FILE's exact bytes with `X-Hub-Signature-256: SIGNATURE` (computed by the caller
-- over those bytes, or a wrong one for the bad-signature scenario) and a unique
-- `X-GitHub-Delivery` per request (`RUN_TAG-THREAD-COUNTER`): invitebot answers a delivery id
-- it has seen with 200 and does no work, so repeated ids measure the duplicate path. With
-- `repeat`, every request carries the same id (`RUN_TAG-THREAD`), as GitHub's "Redeliver" does.
-- With `vary SECRET`, every request is a new issue: the body's `issue.number` is replaced by a
-- number of its own and the body signed with SECRET here (HMAC-SHA256 from the system's
-- libcrypto through LuaJIT's FFI), so a server that recognises a body it saw before (a replay)
-- has to take each one as a new request. bench/webhook-paced.lua sends the same requests at a
-- set pace instead of as fast as the server answers.
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
local vary -- { before = ..., after = ..., base = ..., sign = function(text) }

-- HMAC-SHA256 with `secret`, hex, by the system's libcrypto.
local function signer(secret)
  local ffi = require("ffi")
  ffi.cdef [[
    typedef struct evp_md_st EVP_MD;
    const EVP_MD *EVP_sha256(void);
    unsigned char *HMAC(const EVP_MD *md, const void *key, int key_len, const unsigned char *d,
                        size_t n, unsigned char *out, unsigned int *out_len);
  ]]
  local ok, crypto = pcall(ffi.load, "libcrypto.so.3")
  if not ok then crypto = ffi.load("crypto") end
  local out, out_len = ffi.new("unsigned char[32]"), ffi.new("unsigned int[1]")
  return function(text)
    crypto.HMAC(crypto.EVP_sha256(), secret, #secret, text, #text, out, out_len)
    local hex = {}
    for i = 0, 31 do hex[i + 1] = string.format("%02x", out[i]) end
    return "sha256=" .. table.concat(hex)
  end
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  body = file:read("*a")
  file:close()
  event = args[2]
  signature = args[3]
  tag = (args[4] or "run") .. "-" .. (tid or "1")
  repeated = args[5] == "repeat"
  if args[5] == "vary" then
    local issue = assert(body:find('"issue":', 1, true), "no issue in the body")
    local from, to = body:find('"number": *%d+', issue)
    assert(from, "no issue number in the body")
    vary = {
      before = body:sub(1, from - 1) .. '"number": ',
      after = body:sub(to + 1),
      -- Numbers of their own per thread and run (runs start seconds apart and send fewer than
      -- a million requests a second).
      base = tonumber(tid or "1") * 1e14 + (os.time() % 1e7) * 1e6,
      sign = signer(assert(args[6], "vary needs the secret")),
    }
  end
end

function request()
  counter = counter + 1
  local id = repeated and tag or (tag .. "-" .. counter)
  if vary then
    body = vary.before .. string.format("%d", vary.base + counter) .. vary.after
    signature = vary.sign(body)
  end
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
