-- A page of the active products of one category, keyset by id. Index: categories_slug_key for
-- the slug, products_category_id_idx (category_id, id) for the page in id order.
SELECT id, sku, name, description, category, active, created_at, prices, available
FROM product_documents
WHERE active AND id > $2
  AND category_id = (SELECT id FROM categories WHERE slug = $1)
ORDER BY id
LIMIT $3
