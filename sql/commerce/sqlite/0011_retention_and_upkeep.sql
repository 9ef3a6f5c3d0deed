-- Retention (SQLite flavour of postgres/0011_retention_and_upkeep.sql): settled order requests
-- and reservations move to archive tables once their order is older than the retention window.
-- No partitioning here, so the archives are plain tables; an embedded database that lives for
-- years can export and empty them (`DELETE FROM … WHERE archived_at < …`) at any time.
CREATE TABLE order_requests_archive (
    user_id          INTEGER NOT NULL,
    idempotency_key  TEXT    NOT NULL,
    fingerprint      TEXT    NOT NULL,
    order_id         INTEGER NOT NULL,
    order_created_at INTEGER NOT NULL,
    currency         TEXT    NOT NULL,
    lines            TEXT    NOT NULL,
    ship_to          TEXT,
    state            TEXT    NOT NULL,
    updated_at       INTEGER NOT NULL,
    archived_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX order_requests_archive_order_idx ON order_requests_archive (order_id);

CREATE TABLE stock_reservations_archive (
    order_id         INTEGER NOT NULL,
    product_id       INTEGER NOT NULL,
    warehouse_id     INTEGER NOT NULL,
    sku              TEXT    NOT NULL,
    quantity         INTEGER NOT NULL,
    unit_price_minor INTEGER NOT NULL,
    currency         TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    settled_at       INTEGER NOT NULL,
    archived_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX stock_reservations_archive_order_idx ON stock_reservations_archive (order_id);
