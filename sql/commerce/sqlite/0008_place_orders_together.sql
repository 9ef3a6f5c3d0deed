-- Postgres places the orders that arrive together in one call of a stored function
-- (postgres/0008_place_orders_together.sql). SQLite has one writer and keeps the saga; this
-- version exists so both engines count migrations alike.
SELECT 1;
