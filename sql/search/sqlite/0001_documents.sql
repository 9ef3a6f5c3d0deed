-- The source of truth: one row per document, and a tombstone per deleted one (kept so a collection
-- rebuild can replay deletions that happened while it ran). Times are Unix milliseconds (UTC).
CREATE TABLE documents (
    id              TEXT PRIMARY KEY,
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    source          TEXT NOT NULL,
    tags            TEXT NOT NULL,              -- JSON array of strings, sorted
    language        TEXT NOT NULL,
    version         INTEGER NOT NULL CHECK (version >= 1),
    content_hash    TEXT NOT NULL,              -- a write with the same hash changes nothing
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    indexed_version INTEGER                     -- NULL until first indexed
) WITHOUT ROWID;

-- The pending indexer and the indexing-lag gauge read only documents whose version is not indexed.
CREATE INDEX documents_pending ON documents (updated_at)
    WHERE indexed_version IS NULL OR indexed_version <> version;

-- A rebuild's catch-up reads documents changed since it started.
CREATE INDEX documents_updated ON documents (updated_at);

CREATE TABLE tombstones (
    id         TEXT PRIMARY KEY,
    deleted_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX tombstones_deleted ON tombstones (deleted_at);

-- Where each follower of another subgraph's change feed has read up to.
CREATE TABLE cursors (
    name     TEXT PRIMARY KEY,
    position INTEGER NOT NULL
) WITHOUT ROWID;
