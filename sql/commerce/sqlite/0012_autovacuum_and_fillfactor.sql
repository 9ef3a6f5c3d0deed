-- Postgres sets per-table autovacuum and fillfactor here (postgres/0012_autovacuum_and_fillfactor.sql).
-- SQLite has neither; this version exists so both engines count migrations alike.
SELECT 1;
