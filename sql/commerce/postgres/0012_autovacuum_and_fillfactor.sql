-- Storage settings for the two hot tables whose updates bench/sizing measured (README, "Cloud SQL
-- settings"): pg_stat_user_tables after 2,000 orders placed, paid and shipped.
--
-- payments: every payment is updated twice (authorized, captured), and each update changes
-- `status`, which the partial unique index payments_one_live_per_order reads, so no update can be
-- HOT (0 of 4,000) and each leaves a dead row and new index entries. The table is not
-- partitioned and keeps every payment, so the default autovacuum_vacuum_scale_factor (0.2) waits
-- for a fifth of a table of billions of rows to be dead (in the run: 4,000 dead rows, no
-- autovacuum, on 194 k rows). At 1 % autovacuum keeps up with it.
ALTER TABLE payments SET (autovacuum_vacuum_scale_factor = 0.01,
                          autovacuum_analyze_scale_factor = 0.02);

-- inventory: the hottest rows of the catalog, updated on every reserved and shipped line. No
-- index covers the columns that change (on_hand, reserved, updated_at), so updates are HOT as
-- long as the page has room: 99 % (6,033 of 6,106) at the default fillfactor 100, 100 % with
-- 82 dead rows left 23 at fillfactor 85. The table is small (180 bytes a row), so 15 % of room
-- costs little. Applies to pages written from now on; `VACUUM FULL inventory` repacks old ones.
ALTER TABLE inventory SET (fillfactor = 85);
