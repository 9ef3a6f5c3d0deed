-- The ids of the products among $1 (SKUs), for placing an order. Index: products_sku_key.
-- Nothing else: a SKU names the same product for good, so callers may keep the answer.
SELECT p.sku, p.id
FROM products p
WHERE p.sku = ANY($1)
