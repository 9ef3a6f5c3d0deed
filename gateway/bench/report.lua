-- Shared by the wrk scripts: counts bad answers (not 200, or any "errors") in each thread and
-- prints one RESULT line the bench scripts parse. wrk runs response() in each thread's own Lua
-- state and done() in the main one, so each thread counts in a global that done() collects with
-- thread:get().
local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

bad = 0
response = function(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    bad = bad + 1
  end
end

done = function(summary, latency, requests)
  local bad_total = 0
  for _, t in ipairs(threads) do
    bad_total = bad_total + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format("RESULT rps=%.1f p50_us=%d p99_us=%d requests=%d bad=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    summary.requests, bad_total + e.status + e.connect + e.read + e.write + e.timeout))
end
