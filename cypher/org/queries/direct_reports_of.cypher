// Each employee's direct reports, each manager's by id.
UNWIND $ids AS id
MATCH (:Employee {id: id})<-[:REPORTS_TO]-(e:Employee)-[r:MEMBER_OF]->(d:Department)
RETURN id AS of, e {.id, .name, .email, .title, department: d.id, role: r.role} AS employee
ORDER BY of, e.id
