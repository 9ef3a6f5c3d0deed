-- Rollups kept by our own job (continuous aggregates are Timescale-License only): per host and
-- bucket the number of readings and, per column, the sum, minimum and maximum, from which avg,
-- max, min, sum and count combine exactly over any multiple of the width. The 1-hour rollups
-- are computed from the 1-minute ones. `telemetry_rollup_state` holds each rollup's watermark:
-- buckets before it are final; readings after it are read raw (the same split TimescaleDB's
-- real-time aggregates make).
-- On TimescaleDB the rollups are hypertables too (1-minute: 7-day chunks, 1-hour: 90-day
-- chunks), so their retention drops chunks.
CREATE TABLE telemetry_rollup_state (
    rollup text PRIMARY KEY,
    watermark timestamptz
);

CREATE TABLE cpu_1m (
    bucket timestamptz NOT NULL,
    host_id integer NOT NULL,
    samples integer NOT NULL,
    usage_user_sum double precision NOT NULL,
    usage_user_min double precision NOT NULL,
    usage_user_max double precision NOT NULL,
    usage_system_sum double precision NOT NULL,
    usage_system_min double precision NOT NULL,
    usage_system_max double precision NOT NULL,
    usage_idle_sum double precision NOT NULL,
    usage_idle_min double precision NOT NULL,
    usage_idle_max double precision NOT NULL,
    usage_nice_sum double precision NOT NULL,
    usage_nice_min double precision NOT NULL,
    usage_nice_max double precision NOT NULL,
    usage_iowait_sum double precision NOT NULL,
    usage_iowait_min double precision NOT NULL,
    usage_iowait_max double precision NOT NULL,
    usage_irq_sum double precision NOT NULL,
    usage_irq_min double precision NOT NULL,
    usage_irq_max double precision NOT NULL,
    usage_softirq_sum double precision NOT NULL,
    usage_softirq_min double precision NOT NULL,
    usage_softirq_max double precision NOT NULL,
    usage_steal_sum double precision NOT NULL,
    usage_steal_min double precision NOT NULL,
    usage_steal_max double precision NOT NULL,
    usage_guest_sum double precision NOT NULL,
    usage_guest_min double precision NOT NULL,
    usage_guest_max double precision NOT NULL,
    usage_guest_nice_sum double precision NOT NULL,
    usage_guest_nice_min double precision NOT NULL,
    usage_guest_nice_max double precision NOT NULL
);
CREATE UNIQUE INDEX cpu_1m_host_bucket_idx ON cpu_1m (host_id, bucket DESC);
CREATE INDEX cpu_1m_bucket_idx ON cpu_1m (bucket DESC);
SELECT create_hypertable('cpu_1m', 'bucket', chunk_time_interval => interval '7 days',
    create_default_indexes => false);

CREATE TABLE mem_1m (
    bucket timestamptz NOT NULL,
    host_id integer NOT NULL,
    samples integer NOT NULL,
    total_sum double precision NOT NULL,
    total_min double precision NOT NULL,
    total_max double precision NOT NULL,
    available_sum double precision NOT NULL,
    available_min double precision NOT NULL,
    available_max double precision NOT NULL,
    used_sum double precision NOT NULL,
    used_min double precision NOT NULL,
    used_max double precision NOT NULL,
    free_sum double precision NOT NULL,
    free_min double precision NOT NULL,
    free_max double precision NOT NULL,
    cached_sum double precision NOT NULL,
    cached_min double precision NOT NULL,
    cached_max double precision NOT NULL,
    buffered_sum double precision NOT NULL,
    buffered_min double precision NOT NULL,
    buffered_max double precision NOT NULL,
    used_percent_sum double precision NOT NULL,
    used_percent_min double precision NOT NULL,
    used_percent_max double precision NOT NULL,
    available_percent_sum double precision NOT NULL,
    available_percent_min double precision NOT NULL,
    available_percent_max double precision NOT NULL,
    buffered_percent_sum double precision NOT NULL,
    buffered_percent_min double precision NOT NULL,
    buffered_percent_max double precision NOT NULL
);
CREATE UNIQUE INDEX mem_1m_host_bucket_idx ON mem_1m (host_id, bucket DESC);
CREATE INDEX mem_1m_bucket_idx ON mem_1m (bucket DESC);
SELECT create_hypertable('mem_1m', 'bucket', chunk_time_interval => interval '7 days',
    create_default_indexes => false);

CREATE TABLE disk_1m (
    bucket timestamptz NOT NULL,
    host_id integer NOT NULL,
    samples integer NOT NULL,
    total_sum double precision NOT NULL,
    total_min double precision NOT NULL,
    total_max double precision NOT NULL,
    free_sum double precision NOT NULL,
    free_min double precision NOT NULL,
    free_max double precision NOT NULL,
    used_sum double precision NOT NULL,
    used_min double precision NOT NULL,
    used_max double precision NOT NULL,
    used_percent_sum double precision NOT NULL,
    used_percent_min double precision NOT NULL,
    used_percent_max double precision NOT NULL,
    inodes_total_sum double precision NOT NULL,
    inodes_total_min double precision NOT NULL,
    inodes_total_max double precision NOT NULL,
    inodes_free_sum double precision NOT NULL,
    inodes_free_min double precision NOT NULL,
    inodes_free_max double precision NOT NULL,
    inodes_used_sum double precision NOT NULL,
    inodes_used_min double precision NOT NULL,
    inodes_used_max double precision NOT NULL
);
CREATE UNIQUE INDEX disk_1m_host_bucket_idx ON disk_1m (host_id, bucket DESC);
CREATE INDEX disk_1m_bucket_idx ON disk_1m (bucket DESC);
SELECT create_hypertable('disk_1m', 'bucket', chunk_time_interval => interval '7 days',
    create_default_indexes => false);

CREATE TABLE net_1m (
    bucket timestamptz NOT NULL,
    host_id integer NOT NULL,
    samples integer NOT NULL,
    bytes_sent_sum double precision NOT NULL,
    bytes_sent_min double precision NOT NULL,
    bytes_sent_max double precision NOT NULL,
    bytes_recv_sum double precision NOT NULL,
    bytes_recv_min double precision NOT NULL,
    bytes_recv_max double precision NOT NULL,
    packets_sent_sum double precision NOT NULL,
    packets_sent_min double precision NOT NULL,
    packets_sent_max double precision NOT NULL,
    packets_recv_sum double precision NOT NULL,
    packets_recv_min double precision NOT NULL,
    packets_recv_max double precision NOT NULL,
    err_in_sum double precision NOT NULL,
    err_in_min double precision NOT NULL,
    err_in_max double precision NOT NULL,
    err_out_sum double precision NOT NULL,
    err_out_min double precision NOT NULL,
    err_out_max double precision NOT NULL,
    drop_in_sum double precision NOT NULL,
    drop_in_min double precision NOT NULL,
    drop_in_max double precision NOT NULL,
    drop_out_sum double precision NOT NULL,
    drop_out_min double precision NOT NULL,
    drop_out_max double precision NOT NULL
);
CREATE UNIQUE INDEX net_1m_host_bucket_idx ON net_1m (host_id, bucket DESC);
CREATE INDEX net_1m_bucket_idx ON net_1m (bucket DESC);
SELECT create_hypertable('net_1m', 'bucket', chunk_time_interval => interval '7 days',
    create_default_indexes => false);

CREATE TABLE cpu_1h (
    bucket timestamptz NOT NULL,
    host_id integer NOT NULL,
    samples integer NOT NULL,
    usage_user_sum double precision NOT NULL,
    usage_user_min double precision NOT NULL,
    usage_user_max double precision NOT NULL,
    usage_system_sum double precision NOT NULL,
    usage_system_min double precision NOT NULL,
    usage_system_max double precision NOT NULL,
    usage_idle_sum double precision NOT NULL,
    usage_idle_min double precision NOT NULL,
    usage_idle_max double precision NOT NULL,
    usage_nice_sum double precision NOT NULL,
    usage_nice_min double precision NOT NULL,
    usage_nice_max double precision NOT NULL,
    usage_iowait_sum double precision NOT NULL,
    usage_iowait_min double precision NOT NULL,
    usage_iowait_max double precision NOT NULL,
    usage_irq_sum double precision NOT NULL,
    usage_irq_min double precision NOT NULL,
    usage_irq_max double precision NOT NULL,
    usage_softirq_sum double precision NOT NULL,
    usage_softirq_min double precision NOT NULL,
    usage_softirq_max double precision NOT NULL,
    usage_steal_sum double precision NOT NULL,
    usage_steal_min double precision NOT NULL,
    usage_steal_max double precision NOT NULL,
    usage_guest_sum double precision NOT NULL,
    usage_guest_min double precision NOT NULL,
    usage_guest_max double precision NOT NULL,
    usage_guest_nice_sum double precision NOT NULL,
    usage_guest_nice_min double precision NOT NULL,
    usage_guest_nice_max double precision NOT NULL
);
CREATE UNIQUE INDEX cpu_1h_host_bucket_idx ON cpu_1h (host_id, bucket DESC);
CREATE INDEX cpu_1h_bucket_idx ON cpu_1h (bucket DESC);
SELECT create_hypertable('cpu_1h', 'bucket', chunk_time_interval => interval '90 days',
    create_default_indexes => false);

CREATE TABLE mem_1h (
    bucket timestamptz NOT NULL,
    host_id integer NOT NULL,
    samples integer NOT NULL,
    total_sum double precision NOT NULL,
    total_min double precision NOT NULL,
    total_max double precision NOT NULL,
    available_sum double precision NOT NULL,
    available_min double precision NOT NULL,
    available_max double precision NOT NULL,
    used_sum double precision NOT NULL,
    used_min double precision NOT NULL,
    used_max double precision NOT NULL,
    free_sum double precision NOT NULL,
    free_min double precision NOT NULL,
    free_max double precision NOT NULL,
    cached_sum double precision NOT NULL,
    cached_min double precision NOT NULL,
    cached_max double precision NOT NULL,
    buffered_sum double precision NOT NULL,
    buffered_min double precision NOT NULL,
    buffered_max double precision NOT NULL,
    used_percent_sum double precision NOT NULL,
    used_percent_min double precision NOT NULL,
    used_percent_max double precision NOT NULL,
    available_percent_sum double precision NOT NULL,
    available_percent_min double precision NOT NULL,
    available_percent_max double precision NOT NULL,
    buffered_percent_sum double precision NOT NULL,
    buffered_percent_min double precision NOT NULL,
    buffered_percent_max double precision NOT NULL
);
CREATE UNIQUE INDEX mem_1h_host_bucket_idx ON mem_1h (host_id, bucket DESC);
CREATE INDEX mem_1h_bucket_idx ON mem_1h (bucket DESC);
SELECT create_hypertable('mem_1h', 'bucket', chunk_time_interval => interval '90 days',
    create_default_indexes => false);

CREATE TABLE disk_1h (
    bucket timestamptz NOT NULL,
    host_id integer NOT NULL,
    samples integer NOT NULL,
    total_sum double precision NOT NULL,
    total_min double precision NOT NULL,
    total_max double precision NOT NULL,
    free_sum double precision NOT NULL,
    free_min double precision NOT NULL,
    free_max double precision NOT NULL,
    used_sum double precision NOT NULL,
    used_min double precision NOT NULL,
    used_max double precision NOT NULL,
    used_percent_sum double precision NOT NULL,
    used_percent_min double precision NOT NULL,
    used_percent_max double precision NOT NULL,
    inodes_total_sum double precision NOT NULL,
    inodes_total_min double precision NOT NULL,
    inodes_total_max double precision NOT NULL,
    inodes_free_sum double precision NOT NULL,
    inodes_free_min double precision NOT NULL,
    inodes_free_max double precision NOT NULL,
    inodes_used_sum double precision NOT NULL,
    inodes_used_min double precision NOT NULL,
    inodes_used_max double precision NOT NULL
);
CREATE UNIQUE INDEX disk_1h_host_bucket_idx ON disk_1h (host_id, bucket DESC);
CREATE INDEX disk_1h_bucket_idx ON disk_1h (bucket DESC);
SELECT create_hypertable('disk_1h', 'bucket', chunk_time_interval => interval '90 days',
    create_default_indexes => false);

CREATE TABLE net_1h (
    bucket timestamptz NOT NULL,
    host_id integer NOT NULL,
    samples integer NOT NULL,
    bytes_sent_sum double precision NOT NULL,
    bytes_sent_min double precision NOT NULL,
    bytes_sent_max double precision NOT NULL,
    bytes_recv_sum double precision NOT NULL,
    bytes_recv_min double precision NOT NULL,
    bytes_recv_max double precision NOT NULL,
    packets_sent_sum double precision NOT NULL,
    packets_sent_min double precision NOT NULL,
    packets_sent_max double precision NOT NULL,
    packets_recv_sum double precision NOT NULL,
    packets_recv_min double precision NOT NULL,
    packets_recv_max double precision NOT NULL,
    err_in_sum double precision NOT NULL,
    err_in_min double precision NOT NULL,
    err_in_max double precision NOT NULL,
    err_out_sum double precision NOT NULL,
    err_out_min double precision NOT NULL,
    err_out_max double precision NOT NULL,
    drop_in_sum double precision NOT NULL,
    drop_in_min double precision NOT NULL,
    drop_in_max double precision NOT NULL,
    drop_out_sum double precision NOT NULL,
    drop_out_min double precision NOT NULL,
    drop_out_max double precision NOT NULL
);
CREATE UNIQUE INDEX net_1h_host_bucket_idx ON net_1h (host_id, bucket DESC);
CREATE INDEX net_1h_bucket_idx ON net_1h (bucket DESC);
SELECT create_hypertable('net_1h', 'bucket', chunk_time_interval => interval '90 days',
    create_default_indexes => false);

-- Every rollup starts without a watermark; the row exists so that ingest and refresh can lock it.
INSERT INTO telemetry_rollup_state (rollup) VALUES
    ('cpu_1m'),
    ('mem_1m'),
    ('disk_1m'),
    ('net_1m'),
    ('cpu_1h'),
    ('mem_1h'),
    ('disk_1h'),
    ('net_1h');
