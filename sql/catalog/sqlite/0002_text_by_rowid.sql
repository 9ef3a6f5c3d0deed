-- The text index keyed by an integer per product. In 0001 its rows were found by `sku`, an
-- UNINDEXED FTS5 column, so every content write scanned the whole text index to delete the old
-- row: loading 100 000 products slowed to ~500 a second and falling (subgraphs/catalog/bench/run).
CREATE TABLE product_ids (
    id  INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE REFERENCES products (sku) ON DELETE CASCADE
);
INSERT INTO product_ids (sku) SELECT sku FROM products;

DROP TABLE product_text;
CREATE VIRTUAL TABLE product_text USING fts5 (sku UNINDEXED, name, description);
INSERT INTO product_text (rowid, sku, name, description)
SELECT i.id, p.sku, json_extract(p.doc, '$.name'), json_extract(p.doc, '$.description')
FROM products p JOIN product_ids i USING (sku);
