-- Wide readings tables, one per TSBS measurement, as native range partitions by day (this file
-- runs on PostgreSQL without TimescaleDB). The adapter creates each day's partitions before it
-- writes into them and drops whole partitions for retention. Why a day: see the design doc
-- (subgraphs/telemetry/README.md, "Chunks and partitions").
-- (host_id, time DESC), unique: a reading is idempotent on (host, time) (ON CONFLICT DO NOTHING
-- infers this index), and one host's newest readings (lastpoint) or a window of them
-- (single-groupby, cpu-max-all, high-cpu-1) are one backward range scan.
-- (time DESC): windows over all hosts (double-groupby, high-cpu-all, groupby-orderby-limit).

CREATE TABLE cpu (
    time timestamptz NOT NULL,
    host_id integer NOT NULL,
    usage_user double precision NOT NULL,
    usage_system double precision NOT NULL,
    usage_idle double precision NOT NULL,
    usage_nice double precision NOT NULL,
    usage_iowait double precision NOT NULL,
    usage_irq double precision NOT NULL,
    usage_softirq double precision NOT NULL,
    usage_steal double precision NOT NULL,
    usage_guest double precision NOT NULL,
    usage_guest_nice double precision NOT NULL
) PARTITION BY RANGE (time);
CREATE UNIQUE INDEX cpu_host_time_idx ON cpu (host_id, time DESC);
CREATE INDEX cpu_time_idx ON cpu (time DESC);

CREATE TABLE mem (
    time timestamptz NOT NULL,
    host_id integer NOT NULL,
    total double precision NOT NULL,
    available double precision NOT NULL,
    used double precision NOT NULL,
    free double precision NOT NULL,
    cached double precision NOT NULL,
    buffered double precision NOT NULL,
    used_percent double precision NOT NULL,
    available_percent double precision NOT NULL,
    buffered_percent double precision NOT NULL
) PARTITION BY RANGE (time);
CREATE UNIQUE INDEX mem_host_time_idx ON mem (host_id, time DESC);
CREATE INDEX mem_time_idx ON mem (time DESC);

CREATE TABLE disk (
    time timestamptz NOT NULL,
    host_id integer NOT NULL,
    total double precision NOT NULL,
    free double precision NOT NULL,
    used double precision NOT NULL,
    used_percent double precision NOT NULL,
    inodes_total double precision NOT NULL,
    inodes_free double precision NOT NULL,
    inodes_used double precision NOT NULL
) PARTITION BY RANGE (time);
CREATE UNIQUE INDEX disk_host_time_idx ON disk (host_id, time DESC);
CREATE INDEX disk_time_idx ON disk (time DESC);

CREATE TABLE net (
    time timestamptz NOT NULL,
    host_id integer NOT NULL,
    bytes_sent double precision NOT NULL,
    bytes_recv double precision NOT NULL,
    packets_sent double precision NOT NULL,
    packets_recv double precision NOT NULL,
    err_in double precision NOT NULL,
    err_out double precision NOT NULL,
    drop_in double precision NOT NULL,
    drop_out double precision NOT NULL
) PARTITION BY RANGE (time);
CREATE UNIQUE INDEX net_host_time_idx ON net (host_id, time DESC);
CREATE INDEX net_time_idx ON net (time DESC);
