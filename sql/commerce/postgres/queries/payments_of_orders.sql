-- The payment attempts of a batch of orders (`Order.payments`, refunds), oldest first.
-- Index: payments_order_key, unique on (order id, the payOrder idempotency key), whose leading
-- column is the order.
SELECT id, order_id, amount_minor, currency, status, provider, provider_ref, failure, created_at
FROM payments
WHERE order_id = ANY($1)
ORDER BY order_id, id
