-- wrk script: placeOrder through the gateway as many signed-in bench users. Each request picks a
-- token from BENCH_TOKENS (one per line), a fresh idempotency key and 1-2 distinct SKUs among
-- the first BENCH_SKUS bench products (BENCH-000001…, stock that no run can exhaust).
-- A response counts as placed only with HTTP 200, an order id and no "errors" member.
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do
  if line ~= "" then tokens[#tokens + 1] = line end
end
local skus = tonumber(os.getenv("BENCH_SKUS") or "1000")
local run = os.getenv("BENCH_RUN") or tostring(os.time())

local threads = {}
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  threads[#threads + 1] = thread
end

local counter = 0
-- Globals, not locals: done() reads them from each thread with thread:get().
bad, sample = 0, ""
function init(args)
  math.randomseed(os.time() * 100 + id)
end

local query = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }"
local function item(n)
  return string.format('{"sku":"BENCH-%06d","quantity":1}', n)
end

function request()
  counter = counter + 1
  local first = math.random(skus)
  local items = item(first)
  if math.random(2) == 2 and skus > 1 then
    local second = first % skus + 1 -- another product, never the same one
    items = items .. "," .. item(second)
  end
  local body = string.format(
    '{"query":"%s","variables":{"i":{"items":[%s],"currency":"USD","idempotencyKey":"wrk-%s-%d-%d"}}}',
    query, items, run, id, counter)
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
  }
  return wrk.format("POST", "/graphql", headers, body)
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true)
      or not string.find(body, '"placeOrder":{"id":"', 1, true) then
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
