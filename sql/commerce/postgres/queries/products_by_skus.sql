-- Products by SKU, like products_by_ids. Index: products_sku_key.
SELECT id, sku, name, description, category, active, created_at, prices, available
FROM product_documents
WHERE sku = ANY($1)
