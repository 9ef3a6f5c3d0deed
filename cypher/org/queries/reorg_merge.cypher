// Merges department $from into $into: its head becomes a member if $into has a head, its
// members and sub-departments move over, it is deleted, and the merge is recorded for retries.
MATCH (f:Department {id: $from}), (i:Department {id: $into})
OPTIONAL MATCH (f)<-[h:MEMBER_OF {role: 'head'}]-(:Employee)
WITH f, i, h, EXISTS { (i)<-[:MEMBER_OF {role: 'head'}]-(:Employee) } AS into_has_head
FOREACH (_ IN CASE WHEN h IS NOT NULL AND into_has_head THEN [1] ELSE [] END |
  SET h.role = 'member');
MATCH (:Department {id: $from})<-[old:MEMBER_OF]-(e:Employee)
MATCH (i:Department {id: $into})
CREATE (e)-[:MEMBER_OF {role: old.role, since: date($since)}]->(i)
DELETE old;
MATCH (:Department {id: $from})<-[old:PART_OF]-(c:Department)
MATCH (i:Department {id: $into})
CREATE (c)-[:PART_OF]->(i)
DELETE old;
MATCH (f:Department {id: $from})
DETACH DELETE f;
MERGE (done:DepartmentMerge {from: $from})
SET done.into = $into
