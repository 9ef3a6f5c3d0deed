-- The payment attempts of a batch of orders (`Order.payments`, refunds), oldest first, hot or
-- archived (migration 0013's view; the predicate reaches both branches).
-- Indexes: payments_order_key on the hot table and payments_archive_order_idx on the archive,
-- both leading with the order id.
SELECT id, order_id, amount_minor, currency, status, provider, provider_ref, failure, created_at
FROM payments_with_archive
WHERE order_id = ANY($1)
ORDER BY order_id, id
