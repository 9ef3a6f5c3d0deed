// Everything a merge must know, read with the lock held: do both departments exist, was
// `from` merged already (a retry), and is `into` inside `from` (a cycle).
OPTIONAL MATCH (f:Department {id: $from})
OPTIONAL MATCH (i:Department {id: $into})
OPTIONAL MATCH (done:DepartmentMerge {from: $from})
RETURN f IS NOT NULL AS from_exists,
       i IS NOT NULL AS into_exists,
       done.into AS merged_into,
       CASE WHEN f IS NULL OR i IS NULL THEN false
            ELSE EXISTS { (i)-[:PART_OF]->{1,64}(f) } END AS into_is_inside
