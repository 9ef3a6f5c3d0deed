-- wrk script: the two denormalised writes, alternating on random generated products —
-- addReview (review insert + rating summary and latest reviews in the product, one
-- transaction) by a random signed-in user, and upsertVariant as staff (product rewrite + outbox
-- entry, one transaction; cache invalidation). The identity headers are the ones the gateway
-- sets for subgraphs (the standalone service trusts them, as it must only be reachable from the
-- gateway).
package.path = os.getenv("BENCH_DIR") .. "/?.lua;" .. package.path
local common = require("common")
local threads = {}
setup = common.setup(threads, 0)
bad, sample = 0, ""
local range = tonumber(os.getenv("BENCH_SKUS"))
local n = 0

function init(args)
  math.randomseed(os.time() * 100 + id)
end

local review = 'mutation($sku: String!) { addReview(input: {sku: $sku, rating: 4, title: \\"Bench\\"}) { id } }'
local variant = 'mutation($sku: String!, $v: String!, $s: Int!) { upsertVariant(sku: $sku, variant: '
  .. '{sku: $v, options: [{name: \\"colour\\", value: \\"bench\\"}], stockHint: $s}) { sku } }'

function request()
  n = n + 1
  local sku = string.format("GEN-%07d", math.random(0, range - 1))
  local headers = { ["Content-Type"] = "application/json" }
  local body
  if n % 2 == 0 then
    headers["x-polygate-user"] = tostring(math.random(1, 1000000000))
    body = '{"query":"' .. review .. '","variables":{"sku":"' .. sku .. '"}}'
  else
    headers["x-polygate-user"] = "1"
    headers["x-polygate-staff"] = "1"
    body = '{"query":"' .. variant .. '","variables":{"sku":"' .. sku .. '","v":"' .. sku
      .. '-B","s":' .. math.random(0, 50) .. '}}'
  end
  return wrk.format("POST", nil, headers, body)
end

response = common.check('"data":{"')
done = common.done(threads)
