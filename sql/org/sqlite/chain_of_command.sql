-- Employee ?1's manager, their manager, … up to the root, nearest first: a recursive walk up
-- manager_id, one primary-key probe per level, at most ?2 levels.
WITH RECURSIVE up (id, hops) AS (
    SELECT manager_id, 1 FROM employees WHERE id = ?1 AND manager_id IS NOT NULL
    UNION ALL
    SELECT e.manager_id, up.hops + 1
    FROM employees e JOIN up ON e.id = up.id
    WHERE e.manager_id IS NOT NULL AND up.hops < ?2
)
SELECT e.id, e.name, e.email, e.title, e.department_id, e.role
FROM up JOIN employees e ON e.id = up.id
ORDER BY up.hops
