// Each department's head: the MEMBER_OF relationship with role 'head', found through the
// relationship property index on MEMBER_OF(role) (a few rows: one per department) rather than
// by expanding every membership of the department (14 143 for the largest of the benchmark's
// org: PROFILE showed the planner choosing that expansion without the hint).
UNWIND $ids AS id
MATCH (d:Department {id: id})<-[r:MEMBER_OF {role: 'head'}]-(e:Employee)
USING INDEX r:MEMBER_OF(role)
RETURN id AS of, e {.id, .name, .email, .title, department: d.id, role: r.role} AS employee
