-- Payments leave the hot table (SQLite flavour of postgres/0013_payments_retention.sql): a final
-- payment (failed, refunded, or captured for an order that shipped, was delivered or refunded)
-- moves to `payments_archive` once its order is older than the retention window, in the same
-- transaction as the settled requests and reservations. Accounting keeps every payment, so this
-- archive is never emptied, unlike the two of 0011; it keeps the hot table's uniqueness of
-- (provider, provider_ref), so a duplicate callback of an archived payment is still recognised.
CREATE TABLE payments_archive (
    id               INTEGER NOT NULL PRIMARY KEY,
    order_id         INTEGER NOT NULL,
    order_created_at INTEGER NOT NULL,
    amount_minor     INTEGER NOT NULL,
    currency         TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('captured', 'failed', 'refunded')),
    provider         TEXT    NOT NULL,
    provider_ref     TEXT,
    request_key      TEXT,
    failure          TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    archived_at      INTEGER NOT NULL,
    CONSTRAINT payments_archive_provider_ref_key UNIQUE (provider, provider_ref)
) STRICT;
CREATE INDEX payments_archive_order_idx ON payments_archive (order_id, request_key);

-- Every payment, hot or archived, with which.
CREATE VIEW payments_with_archive AS
SELECT id, order_id, amount_minor, currency, status, provider, provider_ref, request_key, failure,
       created_at, 0 AS archived
FROM payments
UNION ALL
SELECT id, order_id, amount_minor, currency, status, provider, provider_ref, request_key, failure,
       created_at, 1 AS archived
FROM payments_archive;
