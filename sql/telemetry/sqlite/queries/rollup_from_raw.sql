-- (Re)computes a rollup's buckets in [?1, ?2) (Unix ms, aligned to the width ?3) from raw
-- readings, for every host or those in ?4 (JSON array). A bucket is replaced whole, so late
-- readings recompute it exactly.
INSERT OR REPLACE INTO {rollup} (host_id, bucket, samples, {rollup_columns})
SELECT host_id, (time / ?3) * ?3, count(*), {raw_partials}
FROM {table}
WHERE {hosts} AND time >= ?1 AND time < ?2
GROUP BY host_id, 2
