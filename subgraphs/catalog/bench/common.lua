-- Shared by the catalog wrk scripts: counts a response as good only with HTTP 200, no "errors"
-- member and the marker the script expects, and prints one RESULT line per run.
local M = {}

function M.setup(threads, next_id)
  return function(thread)
    next_id = next_id + 1
    thread:set("id", next_id)
    threads[#threads + 1] = thread
  end
end

function M.check(marker)
  return function(status, headers, body)
    if status ~= 200 or string.find(body, '"errors"', 1, true)
        or not string.find(body, marker, 1, true) then
      bad = bad + 1
      if sample == "" then sample = status .. " " .. string.sub(body, 1, 300) end
    end
  end
end

function M.done(threads)
  return function(summary, latency, requests)
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
end

return M
