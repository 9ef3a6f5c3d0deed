// An employee's managers up to the root, nearest first: one path up REPORTS_TO.
MATCH p = (:Employee {id: $id})-[:REPORTS_TO]->{1,64}(e:Employee)
MATCH (e)-[r:MEMBER_OF]->(d:Department)
RETURN e {.id, .name, .email, .title, department: d.id, role: r.role} AS employee
ORDER BY length(p)
