-- wrk script: catalogSearch with two attribute filters (a colour, a minimum capacity) in a
-- random category: 8 x 20 x 25 = 4000 different queries, so most pages are not cached yet.
package.path = os.getenv("BENCH_DIR") .. "/?.lua;" .. package.path
local common = require("common")
local threads = {}
setup = common.setup(threads, 0)
bad, sample = 0, ""

function init(args)
  math.randomseed(os.time() * 100 + id)
end

local colours = { "black", "white", "blue", "red", "green", "grey", "sage", "sand" }
local categories = { "kitchen", "office", "outdoor", "home", "garden", "drinkware", "cookware",
  "cutlery", "appliances", "paper", "writing", "lighting", "desk", "camping", "hydration",
  "climbing", "travel", "bedding", "bath", "decor", "storage", "tools", "planters", "furniture",
  "storage" }
local query = 'query($c: String!, $min: String!, $cat: String) { catalogSearch(category: $cat, '
  .. 'filters: [{key: \\"colour\\", value: $c}, {key: \\"capacity\\", op: GTE, value: $min}], '
  .. 'first: 20) { nodes { sku description rating { average } } hasNextPage } }'

function request()
  local vars = string.format('{"c":"%s","min":"%d","cat":"%s"}', colours[math.random(#colours)],
    100 * math.random(1, 20), categories[math.random(#categories)])
  local body = '{"query":"' .. query .. '","variables":' .. vars .. '}'
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end

response = common.check('"catalogSearch":{"nodes":[')
done = common.done(threads)
