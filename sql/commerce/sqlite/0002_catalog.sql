-- Catalog, prices, stock and addresses (SQLite flavour of postgres/0002_catalog.sql). Times are
-- Unix milliseconds (UTC); GLOB stands in for the Postgres regular expressions. Money is integer
-- minor units plus an ISO-4217 code.
CREATE TABLE addresses (
    id          INTEGER NOT NULL PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label       TEXT,
    recipient   TEXT    NOT NULL CHECK (length(recipient) BETWEEN 1 AND 200),
    line1       TEXT    NOT NULL CHECK (length(line1) BETWEEN 1 AND 200),
    line2       TEXT,
    city        TEXT    NOT NULL CHECK (length(city) BETWEEN 1 AND 100),
    region      TEXT,
    postal_code TEXT,
    country     TEXT    NOT NULL CHECK (country GLOB '[A-Z][A-Z]'),
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX addresses_user_id_idx ON addresses (user_id);

CREATE TABLE categories (
    id        INTEGER NOT NULL PRIMARY KEY,
    parent_id INTEGER REFERENCES categories (id) ON DELETE RESTRICT,
    slug      TEXT    NOT NULL UNIQUE
              CHECK (length(slug) >= 1 AND slug NOT GLOB '*[^a-z0-9-]*' AND slug NOT GLOB '-*'
                     AND slug NOT GLOB '*-' AND slug NOT GLOB '*--*'),
    name      TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    CONSTRAINT categories_not_own_parent CHECK (parent_id <> id)
) STRICT;
CREATE INDEX categories_parent_id_idx ON categories (parent_id);

CREATE TABLE products (
    id          INTEGER NOT NULL PRIMARY KEY,
    sku         TEXT    NOT NULL
                CHECK (length(sku) BETWEEN 1 AND 64 AND sku NOT GLOB '*[^A-Z0-9._-]*'
                       AND sku GLOB '[A-Z0-9]*'),
    name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description TEXT    NOT NULL DEFAULT '',
    category_id INTEGER REFERENCES categories (id) ON DELETE SET NULL,
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at  INTEGER NOT NULL,
    CONSTRAINT products_sku_key UNIQUE (sku)
) STRICT;
CREATE INDEX products_category_id_idx ON products (category_id);

CREATE TABLE prices (
    id           INTEGER NOT NULL PRIMARY KEY,
    product_id   INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    currency     TEXT    NOT NULL CHECK (currency GLOB '[A-Z][A-Z][A-Z]'),
    amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
    valid_from   INTEGER NOT NULL,
    CONSTRAINT prices_product_currency_from_key UNIQUE (product_id, currency, valid_from)
) STRICT;

-- The latest price per product and currency whose valid_from has passed.
CREATE VIEW current_prices AS
SELECT p.product_id, p.currency, p.amount_minor, p.valid_from
FROM prices p
WHERE p.valid_from = (
    SELECT max(q.valid_from) FROM prices q
    WHERE q.product_id = p.product_id AND q.currency = p.currency
      AND q.valid_from <= CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
);

CREATE TABLE warehouses (
    id      INTEGER NOT NULL PRIMARY KEY,
    code    TEXT    NOT NULL UNIQUE
            CHECK (length(code) BETWEEN 1 AND 32 AND code NOT GLOB '*[^A-Z0-9-]*'),
    name    TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    country TEXT    NOT NULL CHECK (country GLOB '[A-Z][A-Z]')
) STRICT;

CREATE TABLE inventory (
    product_id   INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    warehouse_id INTEGER NOT NULL REFERENCES warehouses (id) ON DELETE RESTRICT,
    on_hand      INTEGER NOT NULL DEFAULT 0,
    reserved     INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (product_id, warehouse_id),
    CONSTRAINT inventory_on_hand_not_negative CHECK (on_hand >= 0),
    CONSTRAINT inventory_reserved_not_negative CHECK (reserved >= 0),
    CONSTRAINT inventory_reserved_within_on_hand CHECK (reserved <= on_hand)
) STRICT, WITHOUT ROWID;
CREATE INDEX inventory_warehouse_id_idx ON inventory (warehouse_id);
