-- Department ?1 and every department below it (at most ?2 levels), each with its own member
-- count from the (department_id, id) index; totals are rolled up by the caller.
WITH RECURSIVE tree (id, depth) AS (
    SELECT id, 0 FROM departments WHERE id = ?1
    UNION ALL
    SELECT d.id, tree.depth + 1
    FROM departments d JOIN tree ON d.parent_id = tree.id
    WHERE tree.depth < ?2
)
SELECT d.id, d.name, d.parent_id, tree.depth,
       (SELECT count(*) FROM employees e WHERE e.department_id = d.id) AS members
FROM tree JOIN departments d ON d.id = tree.id
