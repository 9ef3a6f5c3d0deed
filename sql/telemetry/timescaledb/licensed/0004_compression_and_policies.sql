-- Timescale License only: compression segmented by host (each compressed batch holds one host's
-- readings in time order, so a one-host query decompresses only that host's batches), and the
-- policies that run the work in TimescaleDB's own scheduler instead of our maintenance task:
-- compress raw chunks after 2 days, refresh the continuous aggregates, drop raw chunks after 7
-- days, 1-minute rollups after 30 days and 1-hour rollups after 365 days (the defaults of
-- `[subgraphs.telemetry]`; on this edition our maintenance task leaves rollups and retention
-- to these policies).

ALTER TABLE cpu SET (timescaledb.compress, timescaledb.compress_segmentby = 'host_id',
    timescaledb.compress_orderby = 'time DESC');
SELECT add_compression_policy('cpu', compress_after => interval '2 days');
SELECT add_retention_policy('cpu', drop_after => interval '7 days');
SELECT add_continuous_aggregate_policy('cpu_1m', start_offset => interval '3 hours',
    end_offset => interval '1 minute', schedule_interval => interval '1 minute');
SELECT add_continuous_aggregate_policy('cpu_1h', start_offset => interval '3 days',
    end_offset => interval '1 hour', schedule_interval => interval '30 minutes');
SELECT add_retention_policy('cpu_1m', drop_after => interval '30 days');
SELECT add_retention_policy('cpu_1h', drop_after => interval '365 days');

ALTER TABLE mem SET (timescaledb.compress, timescaledb.compress_segmentby = 'host_id',
    timescaledb.compress_orderby = 'time DESC');
SELECT add_compression_policy('mem', compress_after => interval '2 days');
SELECT add_retention_policy('mem', drop_after => interval '7 days');
SELECT add_continuous_aggregate_policy('mem_1m', start_offset => interval '3 hours',
    end_offset => interval '1 minute', schedule_interval => interval '1 minute');
SELECT add_continuous_aggregate_policy('mem_1h', start_offset => interval '3 days',
    end_offset => interval '1 hour', schedule_interval => interval '30 minutes');
SELECT add_retention_policy('mem_1m', drop_after => interval '30 days');
SELECT add_retention_policy('mem_1h', drop_after => interval '365 days');

ALTER TABLE disk SET (timescaledb.compress, timescaledb.compress_segmentby = 'host_id',
    timescaledb.compress_orderby = 'time DESC');
SELECT add_compression_policy('disk', compress_after => interval '2 days');
SELECT add_retention_policy('disk', drop_after => interval '7 days');
SELECT add_continuous_aggregate_policy('disk_1m', start_offset => interval '3 hours',
    end_offset => interval '1 minute', schedule_interval => interval '1 minute');
SELECT add_continuous_aggregate_policy('disk_1h', start_offset => interval '3 days',
    end_offset => interval '1 hour', schedule_interval => interval '30 minutes');
SELECT add_retention_policy('disk_1m', drop_after => interval '30 days');
SELECT add_retention_policy('disk_1h', drop_after => interval '365 days');

ALTER TABLE net SET (timescaledb.compress, timescaledb.compress_segmentby = 'host_id',
    timescaledb.compress_orderby = 'time DESC');
SELECT add_compression_policy('net', compress_after => interval '2 days');
SELECT add_retention_policy('net', drop_after => interval '7 days');
SELECT add_continuous_aggregate_policy('net_1m', start_offset => interval '3 hours',
    end_offset => interval '1 minute', schedule_interval => interval '1 minute');
SELECT add_continuous_aggregate_policy('net_1h', start_offset => interval '3 days',
    end_offset => interval '1 hour', schedule_interval => interval '30 minutes');
SELECT add_retention_policy('net_1m', drop_after => interval '30 days');
SELECT add_retention_policy('net_1h', drop_after => interval '365 days');
