-- Direct and total reports of each employee in the JSON array ?1: direct reports through the
-- (manager_id, id) index, everyone below as a range count over the path index.
SELECT m.id,
       (SELECT count(*) FROM employees r WHERE r.manager_id = m.id) AS direct,
       (SELECT count(*) FROM employees s
         WHERE s.path > m.path AND s.path < m.path || '~') AS total
FROM employees m
WHERE m.id IN (SELECT value FROM json_each(?1))
