-- (Re)computes a coarser rollup's buckets in [?1, ?2) from a finer one: the 1-hour rollup from
-- the 1-minute one (60 rows a bucket instead of 360). Parameters as rollup_from_raw.sql.
INSERT OR REPLACE INTO {rollup} (host_id, bucket, samples, {rollup_columns})
SELECT host_id, (bucket / ?3) * ?3, sum(samples), {rollup_folds}
FROM {source}
WHERE {hosts} AND bucket >= ?1 AND bucket < ?2
GROUP BY host_id, 2
