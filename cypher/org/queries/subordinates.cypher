// Everyone below a manager, at most __MAX_DEPTH__ levels down (a literal 1..64 the adapter
// writes in: quantifiers cannot be parameters), ordered by depth then id after a cursor.
MATCH (m:Employee {id: $id})
WITH m
MATCH p = (m)<-[:REPORTS_TO]-{1,__MAX_DEPTH__}(e:Employee)
WITH e, length(p) AS depth
WHERE depth > $afterDepth OR (depth = $afterDepth AND e.id > $afterId)
MATCH (e)-[r:MEMBER_OF]->(d:Department)
RETURN e {.id, .name, .email, .title, department: d.id, role: r.role} AS employee, depth
ORDER BY depth, e.id
LIMIT $first
