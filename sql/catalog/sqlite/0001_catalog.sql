-- Catalog, embedded: one JSON document per product (the shape MongoDB stores, `doc`), plus
-- tables derived from it in the same transaction for what a JSON column alone cannot index.
-- The derived tables are rebuilt from the upgraded document on every write, so they always
-- describe the current shape, whatever `schema_version` the document itself is stored in.

CREATE TABLE products (
    sku              TEXT PRIMARY KEY,
    schema_version   INTEGER NOT NULL,
    doc              TEXT NOT NULL CHECK (json_valid(doc)),
    list_price_minor INTEGER
) WITHOUT ROWID;
-- The migrator's scan for old shapes.
CREATE INDEX products_by_version ON products (schema_version);

-- Category + price range: one row per level of the category path. Ordered (category, sku) so a
-- page in SKU order after a cursor is a range scan; the price is checked on the same row.
CREATE TABLE product_categories (
    category         TEXT NOT NULL,
    sku              TEXT NOT NULL REFERENCES products (sku) ON DELETE CASCADE,
    list_price_minor INTEGER,
    PRIMARY KEY (category, sku)
) WITHOUT ROWID;
CREATE INDEX product_categories_by_sku ON product_categories (sku);

-- The attribute pattern: one row per {k, v, unit}; one index per value type serves any filter.
CREATE TABLE product_attributes (
    k      TEXT NOT NULL,
    v_text TEXT,
    v_num  REAL,
    unit   TEXT,
    sku    TEXT NOT NULL REFERENCES products (sku) ON DELETE CASCADE,
    CHECK ((v_text IS NULL) <> (v_num IS NULL))
);
CREATE INDEX product_attributes_text ON product_attributes (k, v_text, sku);
CREATE INDEX product_attributes_num ON product_attributes (k, v_num, sku);
CREATE INDEX product_attributes_by_sku ON product_attributes (sku);

-- A variant SKU names one variant of one product, across the whole catalog.
CREATE TABLE variant_skus (
    variant_sku TEXT PRIMARY KEY,
    sku         TEXT NOT NULL REFERENCES products (sku) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX variant_skus_by_product ON variant_skus (sku);

-- Reviews beyond the latest few the product document embeds. The id is derived from
-- (product, author): one review per user per product is the primary key.
CREATE TABLE reviews (
    id            TEXT PRIMARY KEY,
    sku           TEXT NOT NULL REFERENCES products (sku) ON DELETE CASCADE,
    created_at_ms INTEGER NOT NULL,
    doc           TEXT NOT NULL CHECK (json_valid(doc))
) WITHOUT ROWID;
CREATE INDEX reviews_by_product_date ON reviews (sku, created_at_ms DESC, id DESC);

-- Text search on name and description (AND of words, like the MongoDB adapter's quoted terms).
CREATE VIRTUAL TABLE product_text USING fts5 (sku UNINDEXED, name, description);

-- The outbox the search feed reads: appended in the transaction of every content write.
CREATE TABLE content_changes (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    sku      TEXT NOT NULL,
    doc      TEXT CHECK (doc IS NULL OR json_valid(doc))
);
