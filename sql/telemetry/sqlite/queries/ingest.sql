-- A batch of one measurement's rows, as one JSON array of [host_id, time, values…] arrays:
-- one statement and one bound parameter whatever the batch size. INSERT OR IGNORE keeps a
-- stored (host_id, time) as it is, so a retried batch writes nothing twice.
INSERT OR IGNORE INTO {table} (host_id, time, {columns})
SELECT value ->> 0, value ->> 1, {extracts}
FROM json_each(?1)
