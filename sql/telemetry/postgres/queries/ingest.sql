-- A batch of one measurement's rows, after a binary COPY into the session's staging table
-- {stage}: the rows whose (host_id, time) is not stored yet (ON CONFLICT infers the unique
-- (host_id, time DESC) index), so a retried batch writes nothing twice.
INSERT INTO {table} (time, host_id, {columns})
SELECT time, host_id, {columns} FROM {stage}
ON CONFLICT DO NOTHING
