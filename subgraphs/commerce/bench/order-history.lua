-- wrk script: the first page of order history, `me { orders(first: 20) … }`, through the
-- gateway for signed-in bench users picked at random from BENCH_TOKENS (one token per line).
-- A response counts as good only with HTTP 200, a nodes list and no "errors" member.
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do
  if line ~= "" then tokens[#tokens + 1] = line end
end

local threads = {}
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  threads[#threads + 1] = thread
end

-- Globals, not locals: done() reads them from each thread with thread:get().
bad, sample = 0, ""
function init(args)
  math.randomseed(os.time() * 100 + id)
end

local body = '{"query":"{ me { orders(first: 20) { nodes { id total { amountMinor currency } } } } }"}'

function request()
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
  }
  return wrk.format("POST", "/graphql", headers, body)
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true)
      or not string.find(body, '"nodes":[{"id":"', 1, true) then
    bad = bad + 1
    if sample == "" then sample = status .. " " .. string.sub(body, 1, 300) end
  end
end

function done(summary, latency, requests)
  local bad_total, sample_any = 0, ""
  for _, t in ipairs(threads) do
    bad_total = bad_total + t:get("bad")
    if sample_any == "" then sample_any = t:get("sample") end
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT rps=%.1f ok_rps=%.1f p50_us=%d p99_us=%d requests=%d bad=%d socket_errors=%d\n",
    summary.requests / secs, (summary.requests - bad_total) / secs, latency:percentile(50),
    latency:percentile(99), summary.requests, bad_total,
    e.connect + e.read + e.write + e.timeout))
  if sample_any ~= "" then io.write("SAMPLE " .. sample_any:gsub("\n", " ") .. "\n") end
end
