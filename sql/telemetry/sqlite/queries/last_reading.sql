-- The newest reading of each selected host in one measurement (TSBS lastpoint); the adapter
-- joins one of these per measurement with UNION ALL, so lastpoint is one statement.
-- ?1 host ids (JSON array, or NULL for every host). One primary-key probe per host.
SELECT h.id, '{table}', r.time, json_array({columns})
FROM hosts h
JOIN {table} r ON r.host_id = h.id
    AND r.time = (SELECT max(time) FROM {table} WHERE host_id = h.id)
WHERE ?1 IS NULL OR h.id IN (SELECT value FROM json_each(?1))
