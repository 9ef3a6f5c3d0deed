-- A user's orders, newest first, after the keyset cursor ($2 created_at, $3 id). Index:
-- orders_user_history_idx (user_id, created_at DESC, id DESC); with a recent cursor and the
-- created_at bound, the planner prunes to the partitions the page can touch.
SELECT id, user_id, status, currency, total_minor, ship_to, created_at
FROM orders
WHERE user_id = $1
  AND (created_at, id) < ($2, $3)
  AND created_at <= now()
ORDER BY created_at DESC, id DESC
LIMIT $4
