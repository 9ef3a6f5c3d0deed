-- Postgres's partition maintenance takes its clock (postgres/0009_maintenance_clock.sql).
-- SQLite has no partitioning; this version exists so both engines count migrations alike.
SELECT 1;
