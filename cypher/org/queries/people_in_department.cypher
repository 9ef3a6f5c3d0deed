// Members of a department or any department below it, by id after a cursor. The WITH makes
// the walk start at the department: otherwise the planner reads every employee in id order to
// save the sort, which on a large org scans far more than one department's people.
MATCH (root:Department {id: $id})
WITH root
MATCH (root)<-[:PART_OF]-{0,64}(d:Department)<-[r:MEMBER_OF]-(e:Employee)
WHERE e.id > $after
RETURN e {.id, .name, .email, .title, department: d.id, role: r.role} AS employee
ORDER BY e.id
LIMIT $first
