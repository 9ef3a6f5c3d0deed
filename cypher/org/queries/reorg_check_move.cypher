// Everything a move must know, read with the lock held: do both people exist, whom does the
// moved one report to now, and is the new manager in the moved one's own team (a cycle).
OPTIONAL MATCH (e:Employee {id: $employee})
OPTIONAL MATCH (m:Employee {id: $manager})
OPTIONAL MATCH (e)-[:REPORTS_TO]->(current:Employee)
RETURN e IS NOT NULL AS employee_exists,
       m IS NOT NULL AS manager_exists,
       current.id AS current_manager,
       CASE WHEN e IS NULL OR m IS NULL THEN false
            ELSE EXISTS { (m)-[:REPORTS_TO]->{1,64}(e) } END AS manager_is_below
