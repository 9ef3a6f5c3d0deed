-- The host ids of a batch (int4[]) that are not registered.
SELECT id FROM unnest($1::int4[]) AS batch(id)
WHERE NOT EXISTS (SELECT 1 FROM hosts WHERE hosts.id = batch.id)
