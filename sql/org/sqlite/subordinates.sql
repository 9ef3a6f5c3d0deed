-- Up to ?5 people below manager ?1, at most ?2 levels down, ordered by (depth, id) after the
-- cursor (?3, ?4): a range scan of the manager's subtree over the path index.
SELECT e.id, e.name, e.email, e.title, e.department_id, e.role,
       e.depth - m.depth AS relative_depth
FROM employees m
JOIN employees e ON e.path > m.path AND e.path < m.path || '~'
WHERE m.id = ?1
  AND e.depth - m.depth <= ?2
  AND (e.depth - m.depth, e.id) > (?3, ?4)
ORDER BY e.depth, e.id
LIMIT ?5
