-- (Re)computes a coarser rollup's buckets in [$1, $2) from a finer one: the 1-hour rollup from
-- the 1-minute one (60 rows a bucket instead of 360). Parameters as rollup_from_raw.sql.
INSERT INTO {rollup} (bucket, host_id, samples, {rollup_columns})
SELECT {rollup_bucket}, host_id, sum(samples), {rollup_folds}
FROM {source}
WHERE bucket >= $1 AND bucket < $2 {hosts}
GROUP BY 1, 2
ON CONFLICT (host_id, bucket) DO UPDATE SET samples = excluded.samples, {updates}
