-- The newest buckets before a moment over all hosts: TSBS groupby-orderby-limit.
-- ?1 before (Unix ms), ?2 bucket width (ms), ?3 how many buckets.
SELECT (time / ?2) * ?2 AS bucket, {aggregate}
FROM {table}
WHERE host_id IN (SELECT id FROM hosts) AND time < ?1
GROUP BY 1
ORDER BY 1 DESC
LIMIT ?3
