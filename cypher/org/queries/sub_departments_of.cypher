// The direct sub-departments of each department, by id.
UNWIND $ids AS id
MATCH (:Department {id: id})<-[:PART_OF]-(d:Department)
RETURN d.id AS id, d.name AS name, id AS parent
ORDER BY parent, d.id
