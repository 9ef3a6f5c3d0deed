-- The host ids of a batch (JSON array) that are not registered.
SELECT value FROM json_each(?1) WHERE value NOT IN (SELECT id FROM hosts)
