-- Up to ?4 members of department ?1 or any department below it (at most ?2 levels), by id
-- after ?3.
WITH RECURSIVE tree (id, depth) AS (
    SELECT id, 0 FROM departments WHERE id = ?1
    UNION ALL
    SELECT d.id, tree.depth + 1
    FROM departments d JOIN tree ON d.parent_id = tree.id
    WHERE tree.depth < ?2
)
SELECT e.id, e.name, e.email, e.title, e.department_id, e.role
FROM employees e
WHERE e.department_id IN (SELECT id FROM tree) AND e.id > ?3
ORDER BY e.id
LIMIT ?4
