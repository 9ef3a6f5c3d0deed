-- (Re)computes a rollup's buckets in [$1, $2) (aligned to the width $3, in seconds) from raw
-- readings, for every host or those in {hosts} ($4). A bucket is replaced whole, so late
-- readings recompute it exactly.
INSERT INTO {rollup} (bucket, host_id, samples, {rollup_columns})
SELECT {bucket}, host_id, count(*), {raw_partials}
FROM {table}
WHERE time >= $1 AND time < $2 {hosts}
GROUP BY 1, 2
ON CONFLICT (host_id, bucket) DO UPDATE SET samples = excluded.samples, {updates}
