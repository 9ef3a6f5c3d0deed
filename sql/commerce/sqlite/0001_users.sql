-- Users of the commerce subgraph (SQLite flavour). created_at is Unix milliseconds (UTC).
-- SQLite has no regular expressions, so the email CHECK is a coarser LIKE/instr test; the
-- application validates the exact shape before it gets here.
CREATE TABLE users (
    id            INTEGER NOT NULL PRIMARY KEY,
    email         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    staff         INTEGER NOT NULL DEFAULT 0 CHECK (staff IN (0, 1)),
    created_at    INTEGER NOT NULL,
    CONSTRAINT users_email_shape CHECK (
        length(email) BETWEEN 3 AND 254
        AND email LIKE '%_@_%'
        AND instr(substr(email, instr(email, '@') + 1), '@') = 0
    ),
    CONSTRAINT users_name_length CHECK (length(name) BETWEEN 1 AND 100)
) STRICT;

CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
