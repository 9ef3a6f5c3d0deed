-- groupby-orderby-limit from a rollup before its watermark and raw readings after it.
-- Parameters as latest_buckets_raw.sql; {mark} as in series_rollup.sql.
WITH mark AS (SELECT {mark} AS at)
SELECT {rollup_bucket} AS b, {combine}
FROM (
    SELECT bucket, samples, {rollup_partials}
    FROM {rollup}
    WHERE bucket < least($1, (SELECT at FROM mark))
    UNION ALL
    SELECT time, 1, {raw_rows}
    FROM {table}
    WHERE time >= (SELECT at FROM mark) AND time < $1
) AS parts
GROUP BY 1
ORDER BY 1 DESC
LIMIT $3
