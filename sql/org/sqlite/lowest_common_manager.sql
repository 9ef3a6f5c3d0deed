-- The lowest manager of both ?1 and ?2: walk up from ?1 (at most ?3 levels) and keep the first
-- manager whose path is a prefix of ?2's path (so ?2 is in their subtree), ?2 excluded.
WITH RECURSIVE up (id, hops) AS (
    SELECT manager_id, 1 FROM employees WHERE id = ?1 AND manager_id IS NOT NULL
    UNION ALL
    SELECT e.manager_id, up.hops + 1
    FROM employees e JOIN up ON e.id = up.id
    WHERE e.manager_id IS NOT NULL AND up.hops < ?3
)
SELECT e.id, e.name, e.email, e.title, e.department_id, e.role
FROM up
JOIN employees e ON e.id = up.id
JOIN employees b ON b.id = ?2
WHERE substr(b.path, 1, length(e.path)) = e.path AND e.id <> b.id
ORDER BY up.hops
LIMIT 1
