-- A product as the API shows it: its row, its category's slug, every current price (one per
-- currency, as a JSON array ordered by currency) and the units available over all warehouses.
-- One definition for every query that reads products (queries/products_by_*.sql,
-- queries/list_products*.sql). A plain view: the planner inlines it, so each query keeps its own
-- index path, and the price and stock subqueries run only for the rows the query returns.
-- Indexes: prices via prices_product_currency_from_key, stock via inventory_pkey.
CREATE VIEW product_documents AS
SELECT p.id, p.sku, p.name, p.description, p.category_id, c.slug AS category, p.active,
       p.created_at,
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
LEFT JOIN categories c ON c.id = p.category_id;
