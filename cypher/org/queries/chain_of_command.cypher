// An employee's managers up to the root, nearest first: one path up REPORTS_TO from a seek
// (the WITH makes the walk start at the seek; without it the planner may scan every employee).
MATCH (start:Employee {id: $id})
WITH start
MATCH p = (start)-[:REPORTS_TO]->{1,64}(e:Employee)
MATCH (e)-[r:MEMBER_OF]->(d:Department)
RETURN e {.id, .name, .email, .title, department: d.id, role: r.role} AS employee
ORDER BY length(p)
