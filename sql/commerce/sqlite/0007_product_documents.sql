-- Postgres reads products through the view product_documents (postgres/0007_product_documents.sql).
-- The SQLite adapter shares one SELECT in code (store/sqlite/catalog.rs); this version exists so
-- both engines count migrations alike.
SELECT 1;
