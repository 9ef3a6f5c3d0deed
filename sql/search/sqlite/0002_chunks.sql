-- The vector collections: one row per chunk (point) with its payload and its vector, the durable
-- copy the in-memory HNSW index of each collection is built from. `key` is the point's label in
-- the HNSW index; AUTOINCREMENT so a deleted chunk's label is never reused while a stale index
-- file could still hold it.
CREATE TABLE collections (
    name          TEXT PRIMARY KEY,
    m             INTEGER NOT NULL,
    ef_construct  INTEGER NOT NULL,
    ef_search     INTEGER NOT NULL,
    quantization  TEXT NOT NULL CHECK (quantization IN ('none', 'int8')),
    dimensions    INTEGER NOT NULL,
    write_seq     INTEGER NOT NULL DEFAULT 0   -- bumped by every write; names the index file
) WITHOUT ROWID;

CREATE TABLE aliases (
    alias      TEXT PRIMARY KEY,
    collection TEXT NOT NULL REFERENCES collections (name)
) WITHOUT ROWID;

CREATE TABLE chunks (
    key         INTEGER PRIMARY KEY AUTOINCREMENT,
    collection  TEXT NOT NULL REFERENCES collections (name) ON DELETE CASCADE,
    point_id    TEXT NOT NULL,                 -- UUID from (document id, chunk index)
    doc_id      TEXT NOT NULL,
    chunk_index INTEGER NOT NULL,
    text        TEXT NOT NULL,
    title       TEXT NOT NULL,
    source      TEXT NOT NULL,
    tags        TEXT NOT NULL,                 -- JSON array of strings
    created_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    vector      BLOB NOT NULL,                 -- little-endian f32 × dimensions
    UNIQUE (collection, point_id)
);

-- Replacing or deleting a document's chunks finds them by document.
CREATE INDEX chunks_by_document ON chunks (collection, doc_id, chunk_index);
