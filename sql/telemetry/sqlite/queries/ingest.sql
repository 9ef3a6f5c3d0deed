-- A chunk of one measurement's rows: {rows} is `(?, ?, …)` once per row (host_id, time, then
-- the values in column order), up to 500 rows a statement (SQLite allows 32 766 parameters).
-- Bound values, not a JSON array: parsing JSON per value cost 4 × the insert itself (seeding
-- the demo fleet took 18.8 s that way, measured here). INSERT OR IGNORE keeps a stored
-- (host_id, time) as it is, so a retried batch writes nothing twice.
INSERT OR IGNORE INTO {table} (host_id, time, {columns})
VALUES {rows}
