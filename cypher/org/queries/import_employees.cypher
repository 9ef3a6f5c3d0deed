// New employees with their MEMBER_OF, then their REPORTS_TO lines (managers are in this batch
// or an earlier one: charts are loaded managers first). MERGE, not CREATE: a batch retried
// after a commit whose answer was lost changes nothing.
UNWIND $rows AS row
MATCH (d:Department {id: row.department})
MERGE (e:Employee {id: row.id})
ON CREATE SET e.name = row.name, e.email = row.email, e.title = row.title
MERGE (e)-[m:MEMBER_OF]->(d)
ON CREATE SET m.role = row.role, m.since = date(row.member_since);
UNWIND $rows AS row
WITH row WHERE row.manager IS NOT NULL
MATCH (e:Employee {id: row.id}), (m:Employee {id: row.manager})
MERGE (e)-[l:REPORTS_TO]->(m)
ON CREATE SET l.since = date(row.reports_since)
