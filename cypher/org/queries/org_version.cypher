// How many reorganisations changed the org.
OPTIONAL MATCH (o:OrgMeta {id: 'org'})
RETURN coalesce(o.version, 0) AS version
