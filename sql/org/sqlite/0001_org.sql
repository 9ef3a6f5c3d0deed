-- The org on SQLite: an adjacency list (manager_id, parent_id) for the one-step questions and a
-- materialised path for the subtree ones. `path` is every ancestor's id from the root down and
-- the employee's own, each followed by '/', e.g. '/alice/bob/user007/'. Ids are [a-z0-9_-], all
-- below '~', so a subtree is the index range [path, path || '~').
CREATE TABLE departments (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    parent_id TEXT REFERENCES departments (id),
    CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE INDEX departments_by_parent ON departments (parent_id, id);

CREATE TABLE employees (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    title         TEXT NOT NULL,
    manager_id    TEXT REFERENCES employees (id),
    reports_since TEXT NOT NULL,
    path          TEXT NOT NULL UNIQUE,
    depth         INTEGER NOT NULL CHECK (depth >= 0),
    department_id TEXT NOT NULL REFERENCES departments (id),
    role          TEXT NOT NULL CHECK (role IN ('head', 'member')),
    member_since  TEXT NOT NULL,
    CHECK (manager_id IS NULL OR manager_id <> id),
    CHECK (substr(path, -length(id) - 1) = id || '/')
);
-- Direct reports (and the managers' batch read): by manager, in id order.
CREATE INDEX employees_by_manager ON employees (manager_id, id);
-- Members of a department, in id order (department trees and people in a subtree).
CREATE INDEX employees_by_department ON employees (department_id, id);
-- At most one head per department.
CREATE UNIQUE INDEX one_head_per_department ON employees (department_id) WHERE role = 'head';

-- The org version: bumped by every reorganisation that changes something.
CREATE TABLE org_meta (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO org_meta (id, version) VALUES (1, 0);

-- Departments merged away, so a retried merge answers "already done" instead of "not found".
CREATE TABLE department_merges (
    from_id TEXT PRIMARY KEY,
    into_id TEXT NOT NULL
);
