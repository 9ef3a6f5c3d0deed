// Every department with its parent (backups).
MATCH (d:Department)
OPTIONAL MATCH (d)-[:PART_OF]->(parent:Department)
RETURN d.id AS id, d.name AS name, parent.id AS parent
ORDER BY id
