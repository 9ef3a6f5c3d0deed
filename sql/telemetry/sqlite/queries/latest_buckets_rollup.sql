-- groupby-orderby-limit from a rollup before its watermark and raw readings after it.
-- Parameters as latest_buckets_raw.sql.
WITH mark AS (
    SELECT coalesce((SELECT watermark FROM telemetry_rollup_state WHERE rollup = '{rollup}'),
        -9223372036854775807) AS at
)
SELECT (bucket / ?2) * ?2 AS b, {combine}
FROM (
    SELECT bucket, samples, {rollup_partials}
    FROM {rollup}
    WHERE host_id IN (SELECT id FROM hosts) AND bucket < min(?1, (SELECT at FROM mark))
    UNION ALL
    SELECT time, 1, {raw_rows}
    FROM {table}
    WHERE host_id IN (SELECT id FROM hosts) AND time >= (SELECT at FROM mark) AND time < ?1
)
GROUP BY 1
ORDER BY 1 DESC
LIMIT ?3
