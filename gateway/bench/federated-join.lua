-- wrk script: POSTs the federated query; identity comes from the environment so one script
-- serves both a polygate gateway (BENCH_TOKEN) and the stock router (BENCH_USER_ID headers).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"query":"{ users(first: 50) { nodes { id email name sessions { id expiresAt } } } }"}'

local token = os.getenv("BENCH_TOKEN")
local user = os.getenv("BENCH_USER_ID")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
if user and user ~= "" then
  wrk.headers["x-polygate-user"] = user
  wrk.headers["x-polygate-session"] = os.getenv("BENCH_SESSION_ID") or ""
  wrk.headers["x-polygate-staff"] = "1"
end

dofile("gateway/bench/report.lua")
