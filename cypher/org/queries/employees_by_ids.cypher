// Employees by id, any number in one round trip: a unique-index seek per id. The hint pins the
// seek: on a small graph the planner otherwise scans the whole index once per id.
UNWIND $ids AS id
MATCH (e:Employee {id: id})-[r:MEMBER_OF]->(d:Department)
USING INDEX e:Employee(id)
RETURN e {.id, .name, .email, .title, department: d.id, role: r.role} AS employee
