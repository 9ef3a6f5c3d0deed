-- wrk script: a product page (content, variants, attributes, rating and the latest five
-- reviews) for a random generated product: GEN-<n> with n below BENCH_SKUS, or below BENCH_HOT
-- when set (a hot set that fits in the cache).
package.path = os.getenv("BENCH_DIR") .. "/?.lua;" .. package.path
local common = require("common")
local threads = {}
setup = common.setup(threads, 0)
bad, sample = 0, ""
local range = tonumber(os.getenv("BENCH_HOT") or "") or tonumber(os.getenv("BENCH_SKUS"))

function init(args)
  math.randomseed(os.time() * 100 + id)
end

local query = 'query($sku: String!) { catalogProduct(sku: $sku) { sku description brand categoryPath '
  .. 'attributes { key value unit } variants { sku options { name value } priceDeltaMinor stockHint } '
  .. 'rating { count average histogram } reviews(first: 5) { nodes { title rating createdAt } } } }'

function request()
  local sku = string.format("GEN-%07d", math.random(0, range - 1))
  local body = '{"query":"' .. query .. '","variables":{"sku":"' .. sku .. '"}}'
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end

response = common.check('"catalogProduct":{"sku":"GEN-')
done = common.done(threads)
