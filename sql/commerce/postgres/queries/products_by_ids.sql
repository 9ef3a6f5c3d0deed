-- Products by id with their current prices and available stock (the view product_documents).
-- Index: products_pkey; prices via prices_product_currency_from_key; inventory via
-- inventory_pkey.
SELECT id, sku, name, description, category, active, created_at, prices, available
FROM product_documents
WHERE id = ANY($1)
