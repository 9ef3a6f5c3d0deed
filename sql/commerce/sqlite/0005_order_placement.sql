-- Placing orders safely (SQLite flavour of postgres/0005_order_placement.sql). One file is one
-- database, so the sharding tables (shard_map, shard_ownership, user_emails) are not needed.
-- SQLite cannot drop a column constraint in place, so order_items is rebuilt without its
-- product foreign key, to match Postgres (products may live in another database there).
CREATE TABLE order_items_new (
    id               INTEGER NOT NULL PRIMARY KEY,
    order_id         INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    created_at       INTEGER NOT NULL,
    product_id       INTEGER NOT NULL,
    sku              TEXT    NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_minor INTEGER NOT NULL CHECK (unit_price_minor >= 0),
    currency         TEXT    NOT NULL CHECK (currency GLOB '[A-Z][A-Z][A-Z]')
) STRICT;
INSERT INTO order_items_new SELECT id, order_id, created_at, product_id, sku, quantity,
    unit_price_minor, currency FROM order_items;
DROP TABLE order_items;
ALTER TABLE order_items_new RENAME TO order_items;
CREATE INDEX order_items_order_idx ON order_items (order_id, created_at);
CREATE INDEX order_items_product_id_idx ON order_items (product_id);

CREATE TABLE order_requests (
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    idempotency_key  TEXT    NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 100),
    fingerprint      TEXT    NOT NULL,
    order_id         INTEGER NOT NULL UNIQUE,
    order_created_at INTEGER NOT NULL,
    currency         TEXT    NOT NULL,
    lines            TEXT    NOT NULL CHECK (json_valid(lines) AND json_type(lines) = 'array'),
    state            TEXT    NOT NULL
                     CHECK (state IN ('reserving', 'placed', 'rejected', 'releasing', 'cancelled')),
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
) STRICT;
CREATE INDEX order_requests_unfinished_idx ON order_requests (updated_at)
    WHERE state IN ('reserving', 'releasing');

CREATE TABLE stock_reservations (
    order_id         INTEGER NOT NULL,
    product_id       INTEGER NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    warehouse_id     INTEGER NOT NULL REFERENCES warehouses (id) ON DELETE RESTRICT,
    sku              TEXT    NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_minor INTEGER NOT NULL CHECK (unit_price_minor >= 0),
    currency         TEXT    NOT NULL,
    released         INTEGER NOT NULL DEFAULT 0 CHECK (released IN (0, 1)),
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (order_id, product_id)
) STRICT;
CREATE INDEX stock_reservations_product_idx ON stock_reservations (product_id);

CREATE TABLE stock_movements (
    idempotency_key TEXT    NOT NULL PRIMARY KEY CHECK (length(idempotency_key) BETWEEN 1 AND 100),
    product_id      INTEGER NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    warehouse_id    INTEGER NOT NULL REFERENCES warehouses (id) ON DELETE RESTRICT,
    quantity        INTEGER NOT NULL CHECK (quantity > 0),
    created_at      INTEGER NOT NULL
) STRICT;

-- 0002's view truncated its floating-point "now" to whole milliseconds, which lands one
-- millisecond early most of the time: a price set (or a product created) this millisecond stayed
-- invisible until the next one, so an order placed right after it found no price. Rounding
-- gives the exact millisecond SQLite read from the clock.
DROP VIEW current_prices;
CREATE VIEW current_prices AS
SELECT p.product_id, p.currency, p.amount_minor, p.valid_from
FROM prices p
WHERE p.valid_from = (
    SELECT max(q.valid_from) FROM prices q
    WHERE q.product_id = p.product_id AND q.currency = p.currency
      AND q.valid_from <= CAST(round((julianday('now') - 2440587.5) * 86400000) AS INTEGER)
);
