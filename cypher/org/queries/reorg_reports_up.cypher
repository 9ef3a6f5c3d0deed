// Moving someone alone: their direct reports now report to their previous manager.
MATCH (e:Employee {id: $employee})-[:REPORTS_TO]->(previous:Employee)
MATCH (e)<-[line:REPORTS_TO]-(report:Employee)
DELETE line
CREATE (report)-[:REPORTS_TO {since: date($since)}]->(previous)
