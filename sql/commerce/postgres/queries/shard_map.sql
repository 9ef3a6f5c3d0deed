-- The whole shard map (256 rows), loaded at start and after a move. Index: none needed (the
-- table is read whole; a sequential scan of a few pages is cheapest).
SELECT logical_shard, database FROM shard_map ORDER BY logical_shard
