-- Wide readings tables, one per TSBS measurement: one row per host per reading time (Unix
-- milliseconds). The primary key (host_id, time) makes a reading idempotent (INSERT OR IGNORE)
-- and is the only index: a query over all hosts walks it host by host
-- (`host_id IN (SELECT id FROM hosts)`), so no second index slows the embedded ingest.

CREATE TABLE cpu (
    host_id INTEGER NOT NULL,
    time INTEGER NOT NULL,
    usage_user REAL NOT NULL,
    usage_system REAL NOT NULL,
    usage_idle REAL NOT NULL,
    usage_nice REAL NOT NULL,
    usage_iowait REAL NOT NULL,
    usage_irq REAL NOT NULL,
    usage_softirq REAL NOT NULL,
    usage_steal REAL NOT NULL,
    usage_guest REAL NOT NULL,
    usage_guest_nice REAL NOT NULL,
    PRIMARY KEY (host_id, time)
) WITHOUT ROWID;

CREATE TABLE mem (
    host_id INTEGER NOT NULL,
    time INTEGER NOT NULL,
    total REAL NOT NULL,
    available REAL NOT NULL,
    used REAL NOT NULL,
    free REAL NOT NULL,
    cached REAL NOT NULL,
    buffered REAL NOT NULL,
    used_percent REAL NOT NULL,
    available_percent REAL NOT NULL,
    buffered_percent REAL NOT NULL,
    PRIMARY KEY (host_id, time)
) WITHOUT ROWID;

CREATE TABLE disk (
    host_id INTEGER NOT NULL,
    time INTEGER NOT NULL,
    total REAL NOT NULL,
    free REAL NOT NULL,
    used REAL NOT NULL,
    used_percent REAL NOT NULL,
    inodes_total REAL NOT NULL,
    inodes_free REAL NOT NULL,
    inodes_used REAL NOT NULL,
    PRIMARY KEY (host_id, time)
) WITHOUT ROWID;

CREATE TABLE net (
    host_id INTEGER NOT NULL,
    time INTEGER NOT NULL,
    bytes_sent REAL NOT NULL,
    bytes_recv REAL NOT NULL,
    packets_sent REAL NOT NULL,
    packets_recv REAL NOT NULL,
    err_in REAL NOT NULL,
    err_out REAL NOT NULL,
    drop_in REAL NOT NULL,
    drop_out REAL NOT NULL,
    PRIMARY KEY (host_id, time)
) WITHOUT ROWID;
