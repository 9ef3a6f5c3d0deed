// Deletes the whole org (the backup drill's disaster), in batches so a large graph fits memory.
MATCH (n) WHERE n:Employee OR n:Department OR n:OrgMeta OR n:DepartmentMerge
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS
