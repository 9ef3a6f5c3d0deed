-- Postgres places an order in one transaction with a stored function where the buyer's shard and
-- the catalog share a database (postgres/0006_place_order_at_once.sql). SQLite has no stored
-- functions and runs the saga's steps; this version exists so both engines count migrations alike.
SELECT 1;
