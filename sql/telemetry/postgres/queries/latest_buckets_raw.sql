-- The newest buckets before a moment over all hosts: TSBS groupby-orderby-limit.
-- $1 before, $2 bucket width in seconds, $3 how many buckets.
SELECT {bucket} AS bucket, {aggregate}
FROM {table}
WHERE time < $1
GROUP BY 1
ORDER BY 1 DESC
LIMIT $3
