-- Orders, lines and payments (SQLite flavour of postgres/0003_orders.sql). No partitioning: the
-- primary keys are the ids alone, but order_items keeps the order's created_at so both engines
-- have the same columns. Times are Unix milliseconds (UTC).
CREATE TABLE orders (
    id          INTEGER NOT NULL PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    status      TEXT    NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded')),
    currency    TEXT    NOT NULL CHECK (currency GLOB '[A-Z][A-Z][A-Z]'),
    total_minor INTEGER NOT NULL CHECK (total_minor >= 0),
    ship_to     TEXT    NOT NULL CHECK (json_valid(ship_to) AND json_type(ship_to) = 'object'),
    created_at  INTEGER NOT NULL
) STRICT;
-- Keyset order history per user; also the user_id foreign key's index.
CREATE INDEX orders_user_history_idx ON orders (user_id, created_at DESC, id DESC);

CREATE TABLE order_items (
    id               INTEGER NOT NULL PRIMARY KEY,
    order_id         INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    created_at       INTEGER NOT NULL,
    product_id       INTEGER NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    sku              TEXT    NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_minor INTEGER NOT NULL CHECK (unit_price_minor >= 0),
    currency         TEXT    NOT NULL CHECK (currency GLOB '[A-Z][A-Z][A-Z]')
) STRICT;
CREATE INDEX order_items_order_idx ON order_items (order_id, created_at);
CREATE INDEX order_items_product_id_idx ON order_items (product_id);

-- As on Postgres, no declared foreign key to orders (kept identical so data moves across).
CREATE TABLE payments (
    id               INTEGER NOT NULL PRIMARY KEY,
    order_id         INTEGER NOT NULL,
    order_created_at INTEGER NOT NULL,
    amount_minor     INTEGER NOT NULL CHECK (amount_minor > 0),
    currency         TEXT    NOT NULL CHECK (currency GLOB '[A-Z][A-Z][A-Z]'),
    status           TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'authorized', 'captured', 'failed', 'refunded')),
    provider         TEXT    NOT NULL CHECK (length(provider) BETWEEN 1 AND 50),
    provider_ref     TEXT,
    created_at       INTEGER NOT NULL,
    CONSTRAINT payments_provider_ref_key UNIQUE (provider, provider_ref)
) STRICT;
CREATE INDEX payments_order_idx ON payments (order_id, order_created_at);
