// A department and every department below it, with depth and own member count (the degree of
// incoming MEMBER_OF, read from the node's relationship counts, not by scanning members).
MATCH (root:Department {id: $id})
WITH root
MATCH p = (root)<-[:PART_OF]-{0,64}(d:Department)
OPTIONAL MATCH (d)-[:PART_OF]->(parent:Department)
RETURN d.id AS id, d.name AS name, parent.id AS parent, length(p) AS depth,
       COUNT { (d)<-[:MEMBER_OF]-() } AS members
