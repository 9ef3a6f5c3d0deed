// Departments by id, with their parent.
UNWIND $ids AS id
MATCH (d:Department {id: id})
OPTIONAL MATCH (d)-[:PART_OF]->(parent:Department)
RETURN d.id AS id, d.name AS name, parent.id AS parent
