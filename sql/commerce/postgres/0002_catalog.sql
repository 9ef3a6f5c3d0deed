-- Catalog, prices, stock and addresses. Ids are application-generated (ids.rs), like users.id.
-- Money is integer minor units (cents) plus an ISO-4217 code; never floating point.

-- A user's saved addresses. Orders copy the address they ship to (orders.ship_to), so editing or
-- deleting an address never rewrites history.
CREATE TABLE addresses (
    id          BIGINT      PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label       TEXT,
    recipient   TEXT        NOT NULL CHECK (char_length(recipient) BETWEEN 1 AND 200),
    line1       TEXT        NOT NULL CHECK (char_length(line1) BETWEEN 1 AND 200),
    line2       TEXT,
    city        TEXT        NOT NULL CHECK (char_length(city) BETWEEN 1 AND 100),
    region      TEXT,
    postal_code TEXT,
    country     CHAR(2)     NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX addresses_user_id_idx ON addresses (user_id);

-- A tree of categories (parent_id NULL for a root).
CREATE TABLE categories (
    id        BIGINT PRIMARY KEY,
    parent_id BIGINT REFERENCES categories (id) ON DELETE RESTRICT,
    slug      TEXT   NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name      TEXT   NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    CONSTRAINT categories_not_own_parent CHECK (parent_id <> id)
);
CREATE INDEX categories_parent_id_idx ON categories (parent_id);

CREATE TABLE products (
    id          BIGINT      PRIMARY KEY,
    sku         TEXT        NOT NULL CHECK (sku ~ '^[A-Z0-9][A-Z0-9._-]{0,63}$'),
    name        TEXT        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    description TEXT        NOT NULL DEFAULT '',
    category_id BIGINT      REFERENCES categories (id) ON DELETE SET NULL,
    active      BOOLEAN     NOT NULL DEFAULT true,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT products_sku_key UNIQUE (sku)
);
CREATE INDEX products_category_id_idx ON products (category_id);

-- Price history: a row per (product, currency, valid_from); the current price is the latest row
-- whose valid_from has passed (view current_prices). Future prices can be scheduled.
CREATE TABLE prices (
    id           BIGINT      PRIMARY KEY,
    product_id   BIGINT      NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    currency     CHAR(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor BIGINT      NOT NULL CHECK (amount_minor >= 0),
    valid_from   TIMESTAMPTZ NOT NULL,
    CONSTRAINT prices_product_currency_from_key UNIQUE (product_id, currency, valid_from)
);

CREATE VIEW current_prices AS
SELECT DISTINCT ON (product_id, currency) product_id, currency, amount_minor, valid_from
FROM prices
WHERE valid_from <= now()
ORDER BY product_id, currency, valid_from DESC;

CREATE TABLE warehouses (
    id      BIGINT  PRIMARY KEY,
    code    TEXT    NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9-]{1,32}$'),
    name    TEXT    NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    country CHAR(2) NOT NULL CHECK (country ~ '^[A-Z]{2}$')
);

-- Stock of a product in a warehouse. available = on_hand - reserved; the CHECKs make overselling
-- a constraint violation instead of a race the application has to win.
CREATE TABLE inventory (
    product_id   BIGINT      NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    warehouse_id BIGINT      NOT NULL REFERENCES warehouses (id) ON DELETE RESTRICT,
    on_hand      INTEGER     NOT NULL DEFAULT 0,
    reserved     INTEGER     NOT NULL DEFAULT 0,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, warehouse_id),
    CONSTRAINT inventory_on_hand_not_negative CHECK (on_hand >= 0),
    CONSTRAINT inventory_reserved_not_negative CHECK (reserved >= 0),
    CONSTRAINT inventory_reserved_within_on_hand CHECK (reserved <= on_hand)
);
CREATE INDEX inventory_warehouse_id_idx ON inventory (warehouse_id);
