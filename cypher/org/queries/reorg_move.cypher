// The moved employee (and, through them, their team) now reports to the new manager.
MATCH (e:Employee {id: $employee}), (m:Employee {id: $manager})
OPTIONAL MATCH (e)-[old:REPORTS_TO]->()
DELETE old
CREATE (e)-[:REPORTS_TO {since: date($since)}]->(m)
