-- Orders, their lines and payments. orders and order_items are range-partitioned by month on
-- created_at (UTC month boundaries); partitions are made by commerce_maintain_partitions
-- (0004) or pg_partman. Primary keys include the partition key, as Postgres requires.

CREATE TABLE orders (
    id          BIGINT      NOT NULL,
    user_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    status      TEXT        NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded')),
    currency    CHAR(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- Denormalized: the sum of the lines' quantity * unit_price_minor, written with the lines.
    total_minor BIGINT      NOT NULL CHECK (total_minor >= 0),
    -- Denormalized: the shipping address as it was when the order was placed.
    ship_to     JSONB       NOT NULL CHECK (jsonb_typeof(ship_to) = 'object'),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);

-- Keyset order history per user: WHERE user_id = $1 ORDER BY created_at DESC, id DESC.
-- Also the index of the user_id foreign key.
CREATE INDEX orders_user_history_idx ON orders (user_id, created_at DESC, id DESC);

-- Rows whose month has no partition land here instead of failing the insert; see the README.
CREATE TABLE orders_default PARTITION OF orders DEFAULT;

CREATE TABLE order_items (
    id               BIGINT      NOT NULL,
    order_id         BIGINT      NOT NULL,
    -- Denormalized: the order's created_at, so lines share the order's partition and a query by
    -- order prunes both tables the same way.
    created_at       TIMESTAMPTZ NOT NULL,
    product_id       BIGINT      NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    -- Denormalized: SKU, unit price and currency as sold; later price changes do not touch them.
    sku              TEXT        NOT NULL,
    quantity         INTEGER     NOT NULL CHECK (quantity > 0),
    unit_price_minor BIGINT      NOT NULL CHECK (unit_price_minor >= 0),
    currency         CHAR(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    PRIMARY KEY (id, created_at),
    CONSTRAINT order_items_order_fk FOREIGN KEY (order_id, created_at)
        REFERENCES orders (id, created_at) ON DELETE CASCADE
) PARTITION BY RANGE (created_at);

CREATE INDEX order_items_order_idx ON order_items (order_id, created_at);
CREATE INDEX order_items_product_id_idx ON order_items (product_id);

CREATE TABLE order_items_default PARTITION OF order_items DEFAULT;

-- Payments are not partitioned and keep the order's key (order_id, order_created_at) without a
-- declared foreign key: a foreign key into partitioned orders would make DETACH of an old month
-- fail while any payment points into it, and payments outlive the hot order window (see README).
CREATE TABLE payments (
    id               BIGINT      PRIMARY KEY,
    order_id         BIGINT      NOT NULL,
    order_created_at TIMESTAMPTZ NOT NULL,
    amount_minor     BIGINT      NOT NULL CHECK (amount_minor > 0),
    currency         CHAR(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status           TEXT        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'authorized', 'captured', 'failed', 'refunded')),
    provider         TEXT        NOT NULL CHECK (char_length(provider) BETWEEN 1 AND 50),
    provider_ref     TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT payments_provider_ref_key UNIQUE (provider, provider_ref)
);
CREATE INDEX payments_order_idx ON payments (order_id, order_created_at);
