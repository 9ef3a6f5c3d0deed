// Ends a reorganisation: bumps the version when it changed something, releases the lock marker.
MATCH (o:OrgMeta {id: 'org'})
SET o.version = o.version + $bump
REMOVE o.lockedBy
RETURN o.version AS version
