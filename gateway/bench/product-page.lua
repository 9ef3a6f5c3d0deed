-- wrk script: POSTs a product page (commerce's product, price and stock with catalog's content,
-- rating and first reviews) for each demo SKU in turn, anonymously: public data.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local skus = { "MUG-01", "KETTLE-01", "KNIFE-01", "NOTEBOOK-A5", "PEN-01", "LAMP-01", "BOTTLE-01", "TENT-2P" }
-- The same document as gateway/bench/mixed.py reads.
local query = "query Page($sku: String!) { product(sku: $sku) { sku name price { amountMinor currency } "
  .. "available description brand rating { count average } "
  .. "variants { sku priceDeltaMinor options { name value } } reviews(first: 3) { nodes { title rating } } } }"
local next_sku = 0
request = function()
  next_sku = next_sku % #skus + 1
  return wrk.format(nil, nil, nil, '{"query":"' .. query .. '","variables":{"sku":"' .. skus[next_sku] .. '"}}')
end

dofile("gateway/bench/report.lua")
