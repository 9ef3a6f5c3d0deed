// Employees by id, any number in one round trip: a unique-index seek per id.
UNWIND $ids AS id
MATCH (e:Employee {id: id})-[r:MEMBER_OF]->(d:Department)
RETURN e {.id, .name, .email, .title, department: d.id, role: r.role} AS employee
