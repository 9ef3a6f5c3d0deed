-- Placing orders safely across databases, and the tables sharding needs. Every database gets
-- every table; which ones a database uses depends on its role (README, "Sharding"): the catalog
-- database uses the catalog, reservation, directory and email tables, a shard database the
-- user, order and request tables. With one database it plays both roles.

-- Products live in the catalog database, an order line on its buyer's shard: with more than one
-- database the two are in different servers, so no foreign key can join them. The line keeps
-- the SKU and price as sold anyway.
ALTER TABLE order_items DROP CONSTRAINT order_items_product_id_fkey;

-- Products of a category are paged by id (keyset): the index must carry id after category_id,
-- or each page sorts the whole category.
DROP INDEX products_category_id_idx;
CREATE INDEX products_category_id_idx ON products (category_id, id);

-- The saga log of placeOrder/cancelOrder (buyer's shard). Written first, so a retry with the
-- same key, or the sweeper after a crash, can finish the order from this row alone.
CREATE TABLE order_requests (
    user_id          BIGINT      NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    idempotency_key  TEXT        NOT NULL CHECK (char_length(idempotency_key) BETWEEN 1 AND 100),
    fingerprint      TEXT        NOT NULL,
    order_id         BIGINT      NOT NULL,
    order_created_at TIMESTAMPTZ NOT NULL,
    currency         CHAR(3)     NOT NULL,
    lines            JSONB       NOT NULL CHECK (jsonb_typeof(lines) = 'array'),
    state            TEXT        NOT NULL
                     CHECK (state IN ('reserving', 'placed', 'rejected', 'releasing', 'cancelled')),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, idempotency_key),
    CONSTRAINT order_requests_order_id_key UNIQUE (order_id)
);
-- The sweeper's scan: only unfinished requests are in this index, so it stays tiny.
CREATE INDEX order_requests_unfinished_idx ON order_requests (updated_at)
    WHERE state IN ('reserving', 'releasing');

-- Stock held for an order line (catalog database). The primary key makes reserving idempotent:
-- a second attempt for the same order finds its rows instead of holding stock twice.
CREATE TABLE stock_reservations (
    order_id         BIGINT      NOT NULL,
    product_id       BIGINT      NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    warehouse_id     BIGINT      NOT NULL REFERENCES warehouses (id) ON DELETE RESTRICT,
    sku              TEXT        NOT NULL,
    quantity         INTEGER     NOT NULL CHECK (quantity > 0),
    unit_price_minor BIGINT      NOT NULL CHECK (unit_price_minor >= 0),
    currency         CHAR(3)     NOT NULL,
    released         BOOLEAN     NOT NULL DEFAULT false,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, product_id)
);
CREATE INDEX stock_reservations_product_idx ON stock_reservations (product_id);

-- Restocks, applied once per idempotency key (catalog database).
CREATE TABLE stock_movements (
    idempotency_key TEXT        PRIMARY KEY CHECK (char_length(idempotency_key) BETWEEN 1 AND 100),
    product_id      BIGINT      NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    warehouse_id    BIGINT      NOT NULL REFERENCES warehouses (id) ON DELETE RESTRICT,
    quantity        INTEGER     NOT NULL CHECK (quantity > 0),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Sharding directory (catalog database): which database holds each logical shard. Routers cache
-- it and reload it when a shard database says it no longer owns a shard.
CREATE TABLE shard_map (
    logical_shard SMALLINT PRIMARY KEY CHECK (logical_shard >= 0),
    database      TEXT     NOT NULL CHECK (database ~ '^[a-z0-9_]{1,32}$'),
    moved_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The fence (every shard database): the logical shards this database currently owns. Every
-- write to a shard's rows locks its row here in share mode; a shard move deletes it, so a
-- router with a stale map cannot write into the old home once the move has begun.
CREATE TABLE shard_ownership (
    logical_shard SMALLINT PRIMARY KEY CHECK (logical_shard >= 0)
);

-- Emails are unique across every shard (catalog database): the per-shard unique index cannot
-- see the other shards. Sign-in looks the user up here, then reads them from their shard.
CREATE TABLE user_emails (
    email      TEXT        PRIMARY KEY CHECK (email = lower(email)),
    user_id    BIGINT      NOT NULL,
    claimed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Users registered before this migration are claimed in place.
INSERT INTO user_emails (email, user_id, claimed_at)
SELECT lower(email), id, created_at FROM users
ON CONFLICT (email) DO NOTHING;
