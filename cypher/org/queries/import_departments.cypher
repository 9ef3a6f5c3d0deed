// New departments, then their PART_OF lines (parents are in this batch or already stored).
// MERGE, not CREATE: a batch retried after a commit whose answer was lost changes nothing.
UNWIND $rows AS row
MERGE (d:Department {id: row.id})
ON CREATE SET d.name = row.name;
UNWIND $rows AS row
WITH row WHERE row.parent IS NOT NULL
MATCH (d:Department {id: row.id}), (parent:Department {id: row.parent})
MERGE (d)-[:PART_OF]->(parent)
