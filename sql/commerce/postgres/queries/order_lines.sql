-- The lines of a batch of orders, pruned to their months like orders_by_ids. Index:
-- order_items_order_idx (order_id, created_at).
SELECT order_id, product_id, sku, quantity, unit_price_minor
FROM order_items
WHERE order_id = ANY($1) AND created_at = ANY($2)
ORDER BY order_id, sku
