-- The org as an adjacency list on PostgreSQL, for the benchmark's comparison only (the org
-- subgraph's stores are Neo4j and SQLite): one row per employee naming their manager, and the
-- index a recursive CTE walks down with (manager_id) and up with (the primary key).
CREATE TABLE org_departments (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    parent_id TEXT REFERENCES org_departments (id)
);
CREATE TABLE org_employees (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    title         TEXT NOT NULL,
    manager_id    TEXT REFERENCES org_employees (id),
    department_id TEXT NOT NULL REFERENCES org_departments (id),
    role          TEXT NOT NULL
);
CREATE INDEX org_employees_by_manager ON org_employees (manager_id, id);
