-- A page of the active products of one category, keyset by id. Index: categories_slug_key for
-- the slug, products_category_id_idx (category_id, id) for the page in id order.
SELECT p.id, p.sku, p.name, p.description, c.slug AS category, p.active, p.created_at,
       COALESCE((SELECT jsonb_agg(jsonb_build_object('amount_minor', cp.amount_minor,
                                                     'currency', cp.currency)
                                  ORDER BY cp.currency)
                 FROM (SELECT DISTINCT ON (pr.currency) pr.currency, pr.amount_minor
                       FROM prices pr
                       WHERE pr.product_id = p.id AND pr.valid_from <= now()
                       ORDER BY pr.currency, pr.valid_from DESC) cp), '[]') AS prices,
       COALESCE((SELECT sum(i.on_hand - i.reserved) FROM inventory i
                 WHERE i.product_id = p.id), 0)::BIGINT AS available
FROM products p
LEFT JOIN categories c ON c.id = p.category_id
WHERE p.active AND p.id > $2
  AND p.category_id = (SELECT id FROM categories WHERE slug = $1)
ORDER BY p.id
LIMIT $3
