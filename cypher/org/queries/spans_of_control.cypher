// Direct and total reports of each employee: the degree of incoming REPORTS_TO, and the number
// of paths down a quantified pattern (one per subordinate, since the hierarchy is a tree).
UNWIND $ids AS id
MATCH (m:Employee {id: id})
RETURN id,
       COUNT { (m)<-[:REPORTS_TO]-(:Employee) } AS direct,
       COUNT { (m)<-[:REPORTS_TO]-{1,64}(:Employee) } AS total
