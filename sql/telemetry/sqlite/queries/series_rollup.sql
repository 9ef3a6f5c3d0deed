-- A bucketed series from a rollup before its watermark and raw readings after it (the split
-- TimescaleDB's real-time aggregates make). Parameters as series_raw.sql. {rollup_partials} and
-- {raw_partials} name, per metric, <column>_sum, _min and _max; {combine} folds them.
WITH mark AS (
    SELECT coalesce((SELECT watermark FROM telemetry_rollup_state WHERE rollup = '{rollup}'),
        -9223372036854775807) AS at
)
SELECT (bucket / ?3) * ?3 AS b, {host} AS host, {combine}
FROM (
    SELECT bucket, host_id, samples, {rollup_partials}
    FROM {rollup}
    WHERE {hosts} AND bucket >= ?1 AND bucket < min(?2, (SELECT at FROM mark))
    UNION ALL
    SELECT (time / ?3) * ?3, host_id, count(*), {raw_partials}
    FROM {table}
    WHERE {hosts} AND time >= max(?1, (SELECT at FROM mark)) AND time < ?2
    GROUP BY host_id, 1
)
GROUP BY 2, 1
ORDER BY 2, 1
LIMIT ?5
