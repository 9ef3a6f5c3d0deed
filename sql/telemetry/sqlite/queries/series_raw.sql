-- A bucketed series from raw readings: TSBS single-groupby, cpu-max-all, double-groupby.
-- ?1 from, ?2 to (Unix ms, half-open), ?3 bucket width (ms), ?4 host ids (JSON array),
-- ?5 row limit. {host} is `host_id` for one series per host, else NULL. {hosts} walks the
-- primary key host by host: `host_id IN (SELECT id FROM hosts)` or the JSON list.
SELECT (time / ?3) * ?3 AS bucket, {host} AS host, {aggregates}
FROM {table}
WHERE {hosts} AND time >= ?1 AND time < ?2
GROUP BY 2, 1
ORDER BY 2, 1
LIMIT ?5
