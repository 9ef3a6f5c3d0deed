-- The newest reading of each selected host in one measurement (TSBS lastpoint); the adapter
-- joins one of these per measurement with UNION ALL, so lastpoint is one statement.
-- $1 host ids (int4[], or NULL for every host). One backward probe of (host_id, time DESC) per
-- host, newest chunk or partition first.
SELECT h.id, '{table}'::text AS measurement, r.time, ARRAY[{columns}]::float8[] AS vals
FROM hosts h
CROSS JOIN LATERAL (
    SELECT time, {columns}
    FROM {table}
    WHERE host_id = h.id
    ORDER BY time DESC
    LIMIT 1
) AS r
WHERE $1::int4[] IS NULL OR h.id = ANY($1)
