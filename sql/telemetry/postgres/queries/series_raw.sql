-- A bucketed series from raw readings: TSBS single-groupby, cpu-max-all, double-groupby.
-- $1 from, $2 to (half-open), $3 bucket width in seconds, $4 host ids (int4[]), $5 row limit.
-- {bucket} is time_bucket(…) on TimescaleDB, date_bin(…) on PostgreSQL; {host} is `host_id`
-- for one series per host, else NULL; {hosts} is `AND host_id = ANY($4)` or nothing (all hosts).
SELECT {bucket} AS bucket, {host} AS host, {aggregates}
FROM {table}
WHERE time >= $1 AND time < $2 {hosts}
GROUP BY 1, 2
ORDER BY 2, 1
LIMIT $5
