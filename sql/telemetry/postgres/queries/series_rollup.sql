-- A bucketed series from a rollup before its watermark and raw readings after it (the split
-- TimescaleDB's real-time aggregates make). Parameters as series_raw.sql. {mark} is the
-- rollup's watermark (a subquery on telemetry_rollup_state), or 'infinity' where the rollup is a
-- real-time continuous aggregate. {rollup_partials}/{raw_partials} are, per metric, the sum,
-- min and max; {combine} folds them into the asked aggregate.
WITH mark AS (SELECT {mark} AS at)
SELECT {rollup_bucket} AS b, {host} AS host, {combine}
FROM (
    SELECT bucket, host_id, samples, {rollup_partials}
    FROM {rollup}
    WHERE bucket >= $1 AND bucket < least($2, (SELECT at FROM mark)) {hosts}
    UNION ALL
    SELECT {bucket}, host_id, count(*), {raw_partials}
    FROM {table}
    WHERE time >= greatest($1, (SELECT at FROM mark)) AND time < $2 {hosts}
    GROUP BY 1, 2
) AS parts
GROUP BY 1, 2
ORDER BY 2, 1
LIMIT $5
