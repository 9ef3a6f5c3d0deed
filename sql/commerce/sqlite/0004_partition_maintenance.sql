-- Postgres partitions orders and order_items by month (postgres/0004_partition_maintenance.sql).
-- SQLite has no partitioning; this version exists so both engines count migrations alike.
SELECT 1;
