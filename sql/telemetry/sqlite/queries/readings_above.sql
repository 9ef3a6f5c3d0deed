-- Readings of one metric above a threshold: TSBS high-cpu (all hosts, or some).
-- ?1 from, ?2 to (Unix ms), ?3 threshold, ?4 host ids (JSON array), ?5 row limit.
SELECT host_id, time, {column}
FROM {table}
WHERE {hosts} AND time >= ?1 AND time < ?2 AND {column} > ?3
ORDER BY time, host_id
LIMIT ?5
