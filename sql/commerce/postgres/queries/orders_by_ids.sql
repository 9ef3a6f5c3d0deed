-- Orders by id. $2 holds each id's creation instant (in the id's time bits, equal to
-- created_at), so the planner prunes to the months the ids name. Index: orders_pkey
-- (id, created_at) in each of those partitions.
SELECT id, user_id, status, currency, total_minor, ship_to, created_at
FROM orders
WHERE id = ANY($1) AND created_at = ANY($2)
