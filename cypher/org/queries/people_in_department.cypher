// Members of a department or any department below it, by id after a cursor.
MATCH (:Department {id: $id})<-[:PART_OF]-{0,64}(d:Department)<-[r:MEMBER_OF]-(e:Employee)
WHERE e.id > $after
RETURN e {.id, .name, .email, .title, department: d.id, role: r.role} AS employee
ORDER BY e.id
LIMIT $first
