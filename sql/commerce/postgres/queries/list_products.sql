-- A page of active products, keyset by id. Index: products_pkey (range scan in id order, stops
-- after the page). Prices and stock as in products_by_ids.
SELECT id, sku, name, description, category, active, created_at, prices, available
FROM product_documents
WHERE active AND id > $1
ORDER BY id
LIMIT $2
