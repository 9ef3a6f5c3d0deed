-- Everyone below manager $1, at most $2 levels down, by depth then id, at most $3 rows: a
-- recursive walk down the (manager_id, id) index, one index probe per person reached.
WITH RECURSIVE below (id, depth) AS (
    SELECT id, 1 FROM org_employees WHERE manager_id = $1
    UNION ALL
    SELECT e.id, below.depth + 1
    FROM org_employees e JOIN below ON e.manager_id = below.id
    WHERE below.depth < $2
)
SELECT e.id, e.name, e.email, e.title, e.department_id, e.role, below.depth
FROM below JOIN org_employees e ON e.id = below.id
ORDER BY below.depth, e.id
LIMIT $3
