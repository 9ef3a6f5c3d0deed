// The lowest manager of both $a and $b: walk up from $a and keep the first manager that $b
// also reaches going up (each check is one path up from $b, never a walk down a subtree).
MATCH (b:Employee {id: $b})
MATCH p = (:Employee {id: $a})-[:REPORTS_TO]->{1,64}(e:Employee)
WHERE e <> b AND EXISTS { (b)-[:REPORTS_TO]->{1,64}(e) }
WITH e, length(p) AS hops
ORDER BY hops
LIMIT 1
MATCH (e)-[r:MEMBER_OF]->(d:Department)
RETURN e {.id, .name, .email, .title, department: d.id, role: r.role} AS employee
