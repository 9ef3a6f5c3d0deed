// Each employee's direct manager: one REPORTS_TO hop from each seek.
UNWIND $ids AS id
MATCH (:Employee {id: id})-[:REPORTS_TO]->(e:Employee)-[r:MEMBER_OF]->(d:Department)
RETURN id AS of, e {.id, .name, .email, .title, department: d.id, role: r.role} AS employee
