// Each department's head: the MEMBER_OF relationship with role 'head'.
UNWIND $ids AS id
MATCH (d:Department {id: id})<-[r:MEMBER_OF {role: 'head'}]-(e:Employee)
RETURN id AS of, e {.id, .name, .email, .title, department: d.id, role: r.role} AS employee
