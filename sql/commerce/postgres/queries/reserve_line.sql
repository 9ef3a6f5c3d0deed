-- Hold $2 units of product $1 in the warehouse with the most available. The inner SELECT picks
-- and locks the row; the outer WHERE re-checks it after any wait (READ COMMITTED re-evaluates a
-- row changed by a concurrent transaction), so stock is never oversold. Index: inventory_pkey.
UPDATE inventory
SET reserved = reserved + $2, updated_at = now()
WHERE product_id = $1
  AND warehouse_id = (SELECT warehouse_id FROM inventory
                      WHERE product_id = $1 AND on_hand - reserved >= $2
                      ORDER BY on_hand - reserved DESC, warehouse_id
                      LIMIT 1
                      FOR UPDATE)
  AND on_hand - reserved >= $2
RETURNING warehouse_id
