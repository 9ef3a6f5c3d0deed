-- Payments leave the hot table too (README, "Retention"): a payment nothing can change any more
-- moves to `payments_archive` in the same shard database, in the same batch transaction as the
-- settled requests and reservations of 0011, once its order is older than the retention window.
--
-- Final, and so archived: `failed` (the provider declined; a new attempt is a new row) and
-- `refunded` payments, and a `captured` one whose order has shipped, been delivered or been
-- refunded: the only thing that can still happen to it is a refund (a return, a goodwill
-- gesture), which then updates the archived row, the one change an archived payment takes.
-- `pending` and `authorized` payments, and the capture of an order still waiting to ship, stay
-- however old. There is no void state: an order with a live authorisation cannot be cancelled.
--
-- Unlike the two archives of 0011, this one is NOT partitioned and never leaves the database:
-- accounting keeps every payment (the books, tax audits and chargebacks reach years back), so
-- there is no month to detach and drop, and an unpartitioned table keeps what partitioning by
-- `archived_at` would forbid, a primary key on the payment id and the UNIQUE (provider,
-- provider_ref) of the hot table, so a duplicate callback or a reused reference of an archived
-- payment is still recognised. The table is insert-only but for those rare refunds (so almost
-- no dead rows; autovacuum mostly freezes it) and read by index only: a callback by id, an order's payments by order id.

CREATE TABLE payments_archive (
    id               BIGINT      PRIMARY KEY,
    order_id         BIGINT      NOT NULL,
    order_created_at TIMESTAMPTZ NOT NULL,
    amount_minor     BIGINT      NOT NULL,
    currency         CHAR(3)     NOT NULL,
    status           TEXT        NOT NULL CHECK (status IN ('captured', 'failed', 'refunded')),
    provider         TEXT        NOT NULL,
    provider_ref     TEXT,
    request_key      TEXT,
    failure          TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    archived_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT payments_archive_provider_ref_key UNIQUE (provider, provider_ref)
);
-- An order's payments (`Order.payments`, a payOrder retry by its key) and a shard move.
CREATE INDEX payments_archive_order_idx ON payments_archive (order_id, request_key);

-- Every payment, hot or archived, with which: what readers of an order's payments and a payOrder
-- retry see. A predicate on order_id or id is pushed into both branches (one index probe each).
CREATE VIEW payments_with_archive AS
SELECT id, order_id, amount_minor, currency, status, provider, provider_ref, request_key, failure,
       created_at, false AS archived
FROM payments
UNION ALL
SELECT id, order_id, amount_minor, currency, status, provider, provider_ref, request_key, failure,
       created_at, true AS archived
FROM payments_archive;

-- Replaces 0011's version: also moves up to `batch` final payments, in the same transaction.
-- Returns how many of each moved; the caller repeats until fewer than `batch` of each move.
-- Index for payments: payments_order_key (order_id, request_key), a range scan on the order id,
-- with each candidate's order read by its key (orders_pkey of its month, pruned by
-- order_created_at).
DROP FUNCTION commerce_archive_settled(timestamptz, int, timestamptz);
CREATE FUNCTION commerce_archive_settled(orders_before timestamptz, batch int, as_of timestamptz)
RETURNS TABLE (requests bigint, reservations bigint, payments bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    boundary bigint := commerce_id_at(orders_before);
    n        bigint;
BEGIN
    IF batch IS NULL OR batch < 1 OR batch > 100000 THEN
        RAISE EXCEPTION 'batch must be between 1 and 100000, not %', batch;
    END IF;
    PERFORM commerce_create_month_partitions(as_of AT TIME ZONE 'UTC',
                                             ARRAY['order_requests_archive',
                                                   'stock_reservations_archive']);
    WITH moved AS (
        DELETE FROM order_requests r
        WHERE r.ctid = ANY (ARRAY(
            SELECT c.ctid FROM order_requests c
            WHERE c.order_id < boundary AND c.state IN ('rejected', 'cancelled', 'shipped')
            ORDER BY c.order_id
            LIMIT batch
            FOR UPDATE SKIP LOCKED))
        RETURNING r.*)
    INSERT INTO order_requests_archive (user_id, idempotency_key, fingerprint, order_id,
                                        order_created_at, currency, lines, ship_to, state,
                                        updated_at, archived_at)
    SELECT m.user_id, m.idempotency_key, m.fingerprint, m.order_id, m.order_created_at,
           m.currency, m.lines, m.ship_to, m.state, m.updated_at, as_of
    FROM moved m;
    GET DIAGNOSTICS n = ROW_COUNT;
    requests := n;

    WITH moved AS (
        DELETE FROM stock_reservations r
        WHERE r.ctid = ANY (ARRAY(
            SELECT c.ctid FROM stock_reservations c
            WHERE c.order_id < boundary AND c.state IN ('released', 'shipped')
            ORDER BY c.order_id
            LIMIT batch
            FOR UPDATE SKIP LOCKED))
        RETURNING r.*)
    INSERT INTO stock_reservations_archive (order_id, product_id, warehouse_id, sku, quantity,
                                            unit_price_minor, currency, state, created_at,
                                            settled_at, archived_at)
    SELECT m.order_id, m.product_id, m.warehouse_id, m.sku, m.quantity, m.unit_price_minor,
           m.currency, m.state, m.created_at, m.settled_at, as_of
    FROM moved m;
    GET DIAGNOSTICS n = ROW_COUNT;
    reservations := n;

    -- The order's status is read without locking it: a captured payment is picked only when its
    -- order is past shipping, after which only a refund touches the payment. A refund holding
    -- the payment's lock makes SKIP LOCKED leave it; one that comes after the move finds the
    -- row in the archive and applies there (store/postgres/payments.rs).
    WITH moved AS (
        DELETE FROM payments p
        WHERE p.ctid = ANY (ARRAY(
            SELECT c.ctid FROM payments c
            WHERE c.order_id < boundary
              AND (c.status IN ('failed', 'refunded')
                   OR (c.status = 'captured'
                       AND EXISTS (SELECT 1 FROM orders o
                                   WHERE o.id = c.order_id
                                     AND o.created_at = c.order_created_at
                                     AND o.status IN ('shipped', 'delivered', 'refunded'))))
            ORDER BY c.order_id
            LIMIT batch
            FOR UPDATE OF c SKIP LOCKED))
        RETURNING p.*)
    INSERT INTO payments_archive (id, order_id, order_created_at, amount_minor, currency, status,
                                  provider, provider_ref, request_key, failure, created_at,
                                  updated_at, archived_at)
    SELECT m.id, m.order_id, m.order_created_at, m.amount_minor, m.currency, m.status,
           m.provider, m.provider_ref, m.request_key, m.failure, m.created_at, m.updated_at, as_of
    FROM moved m;
    GET DIAGNOSTICS n = ROW_COUNT;
    payments := n;
    RETURN NEXT;
END
$$;
