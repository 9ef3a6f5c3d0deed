-- The lowest manager of both $1 and $2 (neither of them): both chains walked up the primary
-- key, the first of $1's managers that is also one of $2's.
WITH RECURSIVE a (id, hops) AS (
    SELECT manager_id, 1 FROM org_employees WHERE id = $1 AND manager_id IS NOT NULL
    UNION ALL
    SELECT e.manager_id, a.hops + 1 FROM org_employees e JOIN a ON e.id = a.id
    WHERE e.manager_id IS NOT NULL AND a.hops < 64
), b (id, hops) AS (
    SELECT manager_id, 1 FROM org_employees WHERE id = $2 AND manager_id IS NOT NULL
    UNION ALL
    SELECT e.manager_id, b.hops + 1 FROM org_employees e JOIN b ON e.id = b.id
    WHERE e.manager_id IS NOT NULL AND b.hops < 64
)
SELECT e.id, e.name, e.email, e.title, e.department_id, e.role
FROM a JOIN org_employees e ON e.id = a.id
WHERE a.id IN (SELECT id FROM b) AND a.id <> $2
ORDER BY a.hops
LIMIT 1
