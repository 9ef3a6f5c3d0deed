// Employees by e-mail (commerce's User key): a unique-index seek per address.
UNWIND $emails AS email
MATCH (e:Employee {email: email})-[r:MEMBER_OF]->(d:Department)
USING INDEX e:Employee(email)
RETURN e {.id, .name, .email, .title, department: d.id, role: r.role} AS employee
