// Every employee with their lines (backups). The root has no REPORTS_TO: its date is its
// membership's.
MATCH (e:Employee)-[r:MEMBER_OF]->(d:Department)
OPTIONAL MATCH (e)-[l:REPORTS_TO]->(m:Employee)
RETURN e.id AS id, e.name AS name, e.email AS email, e.title AS title, d.id AS department,
       r.role AS role, m.id AS manager, toString(coalesce(l.since, r.since)) AS reports_since,
       toString(r.since) AS member_since
