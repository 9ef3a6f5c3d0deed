-- Timescale License only (Timescale Cloud, or a self-hosted build with the TSL): the rollups as
-- continuous aggregates with real-time aggregation, in place of 0003_rollups.sql. Same names and
-- columns as our rollup tables, so the adapter's queries read either; with
-- materialized_only = false a query sees the newest readings without our watermark split.
-- The 1-hour aggregates are hierarchical (built on the 1-minute ones, TimescaleDB >= 2.9).
CREATE TABLE telemetry_rollup_state (
    rollup text PRIMARY KEY,
    watermark timestamptz
);

CREATE MATERIALIZED VIEW cpu_1m
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(interval '1 minute', time) AS bucket, host_id,
    count(*)::integer AS samples,
    sum(usage_user) AS usage_user_sum, min(usage_user) AS usage_user_min, max(usage_user) AS usage_user_max,
    sum(usage_system) AS usage_system_sum, min(usage_system) AS usage_system_min, max(usage_system) AS usage_system_max,
    sum(usage_idle) AS usage_idle_sum, min(usage_idle) AS usage_idle_min, max(usage_idle) AS usage_idle_max,
    sum(usage_nice) AS usage_nice_sum, min(usage_nice) AS usage_nice_min, max(usage_nice) AS usage_nice_max,
    sum(usage_iowait) AS usage_iowait_sum, min(usage_iowait) AS usage_iowait_min, max(usage_iowait) AS usage_iowait_max,
    sum(usage_irq) AS usage_irq_sum, min(usage_irq) AS usage_irq_min, max(usage_irq) AS usage_irq_max,
    sum(usage_softirq) AS usage_softirq_sum, min(usage_softirq) AS usage_softirq_min, max(usage_softirq) AS usage_softirq_max,
    sum(usage_steal) AS usage_steal_sum, min(usage_steal) AS usage_steal_min, max(usage_steal) AS usage_steal_max,
    sum(usage_guest) AS usage_guest_sum, min(usage_guest) AS usage_guest_min, max(usage_guest) AS usage_guest_max,
    sum(usage_guest_nice) AS usage_guest_nice_sum, min(usage_guest_nice) AS usage_guest_nice_min, max(usage_guest_nice) AS usage_guest_nice_max
FROM cpu
GROUP BY 1, 2
WITH NO DATA;

CREATE MATERIALIZED VIEW mem_1m
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(interval '1 minute', time) AS bucket, host_id,
    count(*)::integer AS samples,
    sum(total) AS total_sum, min(total) AS total_min, max(total) AS total_max,
    sum(available) AS available_sum, min(available) AS available_min, max(available) AS available_max,
    sum(used) AS used_sum, min(used) AS used_min, max(used) AS used_max,
    sum(free) AS free_sum, min(free) AS free_min, max(free) AS free_max,
    sum(cached) AS cached_sum, min(cached) AS cached_min, max(cached) AS cached_max,
    sum(buffered) AS buffered_sum, min(buffered) AS buffered_min, max(buffered) AS buffered_max,
    sum(used_percent) AS used_percent_sum, min(used_percent) AS used_percent_min, max(used_percent) AS used_percent_max,
    sum(available_percent) AS available_percent_sum, min(available_percent) AS available_percent_min, max(available_percent) AS available_percent_max,
    sum(buffered_percent) AS buffered_percent_sum, min(buffered_percent) AS buffered_percent_min, max(buffered_percent) AS buffered_percent_max
FROM mem
GROUP BY 1, 2
WITH NO DATA;

CREATE MATERIALIZED VIEW disk_1m
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(interval '1 minute', time) AS bucket, host_id,
    count(*)::integer AS samples,
    sum(total) AS total_sum, min(total) AS total_min, max(total) AS total_max,
    sum(free) AS free_sum, min(free) AS free_min, max(free) AS free_max,
    sum(used) AS used_sum, min(used) AS used_min, max(used) AS used_max,
    sum(used_percent) AS used_percent_sum, min(used_percent) AS used_percent_min, max(used_percent) AS used_percent_max,
    sum(inodes_total) AS inodes_total_sum, min(inodes_total) AS inodes_total_min, max(inodes_total) AS inodes_total_max,
    sum(inodes_free) AS inodes_free_sum, min(inodes_free) AS inodes_free_min, max(inodes_free) AS inodes_free_max,
    sum(inodes_used) AS inodes_used_sum, min(inodes_used) AS inodes_used_min, max(inodes_used) AS inodes_used_max
FROM disk
GROUP BY 1, 2
WITH NO DATA;

CREATE MATERIALIZED VIEW net_1m
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(interval '1 minute', time) AS bucket, host_id,
    count(*)::integer AS samples,
    sum(bytes_sent) AS bytes_sent_sum, min(bytes_sent) AS bytes_sent_min, max(bytes_sent) AS bytes_sent_max,
    sum(bytes_recv) AS bytes_recv_sum, min(bytes_recv) AS bytes_recv_min, max(bytes_recv) AS bytes_recv_max,
    sum(packets_sent) AS packets_sent_sum, min(packets_sent) AS packets_sent_min, max(packets_sent) AS packets_sent_max,
    sum(packets_recv) AS packets_recv_sum, min(packets_recv) AS packets_recv_min, max(packets_recv) AS packets_recv_max,
    sum(err_in) AS err_in_sum, min(err_in) AS err_in_min, max(err_in) AS err_in_max,
    sum(err_out) AS err_out_sum, min(err_out) AS err_out_min, max(err_out) AS err_out_max,
    sum(drop_in) AS drop_in_sum, min(drop_in) AS drop_in_min, max(drop_in) AS drop_in_max,
    sum(drop_out) AS drop_out_sum, min(drop_out) AS drop_out_min, max(drop_out) AS drop_out_max
FROM net
GROUP BY 1, 2
WITH NO DATA;

CREATE MATERIALIZED VIEW cpu_1h
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(interval '1 hour', bucket) AS bucket, host_id,
    sum(samples)::integer AS samples,
    sum(usage_user_sum) AS usage_user_sum, min(usage_user_min) AS usage_user_min, max(usage_user_max) AS usage_user_max,
    sum(usage_system_sum) AS usage_system_sum, min(usage_system_min) AS usage_system_min, max(usage_system_max) AS usage_system_max,
    sum(usage_idle_sum) AS usage_idle_sum, min(usage_idle_min) AS usage_idle_min, max(usage_idle_max) AS usage_idle_max,
    sum(usage_nice_sum) AS usage_nice_sum, min(usage_nice_min) AS usage_nice_min, max(usage_nice_max) AS usage_nice_max,
    sum(usage_iowait_sum) AS usage_iowait_sum, min(usage_iowait_min) AS usage_iowait_min, max(usage_iowait_max) AS usage_iowait_max,
    sum(usage_irq_sum) AS usage_irq_sum, min(usage_irq_min) AS usage_irq_min, max(usage_irq_max) AS usage_irq_max,
    sum(usage_softirq_sum) AS usage_softirq_sum, min(usage_softirq_min) AS usage_softirq_min, max(usage_softirq_max) AS usage_softirq_max,
    sum(usage_steal_sum) AS usage_steal_sum, min(usage_steal_min) AS usage_steal_min, max(usage_steal_max) AS usage_steal_max,
    sum(usage_guest_sum) AS usage_guest_sum, min(usage_guest_min) AS usage_guest_min, max(usage_guest_max) AS usage_guest_max,
    sum(usage_guest_nice_sum) AS usage_guest_nice_sum, min(usage_guest_nice_min) AS usage_guest_nice_min, max(usage_guest_nice_max) AS usage_guest_nice_max
FROM cpu_1m
GROUP BY 1, 2
WITH NO DATA;

CREATE MATERIALIZED VIEW mem_1h
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(interval '1 hour', bucket) AS bucket, host_id,
    sum(samples)::integer AS samples,
    sum(total_sum) AS total_sum, min(total_min) AS total_min, max(total_max) AS total_max,
    sum(available_sum) AS available_sum, min(available_min) AS available_min, max(available_max) AS available_max,
    sum(used_sum) AS used_sum, min(used_min) AS used_min, max(used_max) AS used_max,
    sum(free_sum) AS free_sum, min(free_min) AS free_min, max(free_max) AS free_max,
    sum(cached_sum) AS cached_sum, min(cached_min) AS cached_min, max(cached_max) AS cached_max,
    sum(buffered_sum) AS buffered_sum, min(buffered_min) AS buffered_min, max(buffered_max) AS buffered_max,
    sum(used_percent_sum) AS used_percent_sum, min(used_percent_min) AS used_percent_min, max(used_percent_max) AS used_percent_max,
    sum(available_percent_sum) AS available_percent_sum, min(available_percent_min) AS available_percent_min, max(available_percent_max) AS available_percent_max,
    sum(buffered_percent_sum) AS buffered_percent_sum, min(buffered_percent_min) AS buffered_percent_min, max(buffered_percent_max) AS buffered_percent_max
FROM mem_1m
GROUP BY 1, 2
WITH NO DATA;

CREATE MATERIALIZED VIEW disk_1h
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(interval '1 hour', bucket) AS bucket, host_id,
    sum(samples)::integer AS samples,
    sum(total_sum) AS total_sum, min(total_min) AS total_min, max(total_max) AS total_max,
    sum(free_sum) AS free_sum, min(free_min) AS free_min, max(free_max) AS free_max,
    sum(used_sum) AS used_sum, min(used_min) AS used_min, max(used_max) AS used_max,
    sum(used_percent_sum) AS used_percent_sum, min(used_percent_min) AS used_percent_min, max(used_percent_max) AS used_percent_max,
    sum(inodes_total_sum) AS inodes_total_sum, min(inodes_total_min) AS inodes_total_min, max(inodes_total_max) AS inodes_total_max,
    sum(inodes_free_sum) AS inodes_free_sum, min(inodes_free_min) AS inodes_free_min, max(inodes_free_max) AS inodes_free_max,
    sum(inodes_used_sum) AS inodes_used_sum, min(inodes_used_min) AS inodes_used_min, max(inodes_used_max) AS inodes_used_max
FROM disk_1m
GROUP BY 1, 2
WITH NO DATA;

CREATE MATERIALIZED VIEW net_1h
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(interval '1 hour', bucket) AS bucket, host_id,
    sum(samples)::integer AS samples,
    sum(bytes_sent_sum) AS bytes_sent_sum, min(bytes_sent_min) AS bytes_sent_min, max(bytes_sent_max) AS bytes_sent_max,
    sum(bytes_recv_sum) AS bytes_recv_sum, min(bytes_recv_min) AS bytes_recv_min, max(bytes_recv_max) AS bytes_recv_max,
    sum(packets_sent_sum) AS packets_sent_sum, min(packets_sent_min) AS packets_sent_min, max(packets_sent_max) AS packets_sent_max,
    sum(packets_recv_sum) AS packets_recv_sum, min(packets_recv_min) AS packets_recv_min, max(packets_recv_max) AS packets_recv_max,
    sum(err_in_sum) AS err_in_sum, min(err_in_min) AS err_in_min, max(err_in_max) AS err_in_max,
    sum(err_out_sum) AS err_out_sum, min(err_out_min) AS err_out_min, max(err_out_max) AS err_out_max,
    sum(drop_in_sum) AS drop_in_sum, min(drop_in_min) AS drop_in_min, max(drop_in_max) AS drop_in_max,
    sum(drop_out_sum) AS drop_out_sum, min(drop_out_min) AS drop_out_min, max(drop_out_max) AS drop_out_max
FROM net_1m
GROUP BY 1, 2
WITH NO DATA;
