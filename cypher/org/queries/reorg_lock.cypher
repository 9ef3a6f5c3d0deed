// Takes the org's reorganisation lock: writing the singleton OrgMeta node holds its write lock
// until the transaction ends, so reorganisations run one at a time and each reads the tree
// after the previous one committed.
MERGE (o:OrgMeta {id: 'org'})
ON CREATE SET o.version = 0
SET o.lockedBy = $token
