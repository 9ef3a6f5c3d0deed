//! Telemetry's own Prometheus metrics (beside the kit's store-call latency): ingest rows,
//! rejected rows and lag, query latency per TSBS query type, chunks per table and how far the
//! rollups trail the clock.

use std::sync::LazyLock;

use prometheus::{
    GaugeVec, HistogramVec, IntCounterVec, IntGaugeVec, register_gauge_vec, register_histogram_vec,
    register_int_counter_vec, register_int_gauge_vec,
};

/// Rows written, by measurement and outcome (`inserted`, or `duplicate`: already stored).
pub static INGEST_ROWS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "polygate_telemetry_ingest_rows_total",
        "Readings written, by measurement and outcome",
        &["measurement", "outcome"]
    )
    .expect("metric registers once")
});

/// Rows refused, by reason (`invalid`, `unknown_host`, `too_large`, `store`).
pub static REJECTED_ROWS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "polygate_telemetry_ingest_rejected_rows_total",
        "Readings refused, by reason",
        &["reason"]
    )
    .expect("metric registers once")
});

/// How old the newest reading of the last written batch was when it was stored, per
/// measurement: an agent fleet that falls behind shows here first.
pub static INGEST_LAG: LazyLock<GaugeVec> = LazyLock::new(|| {
    register_gauge_vec!(
        "polygate_telemetry_ingest_lag_seconds",
        "Age of the newest reading of the last batch when it was stored",
        &["measurement"]
    )
    .expect("metric registers once")
});

/// GraphQL read latency by TSBS query type.
pub static QUERY_SECONDS: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "polygate_telemetry_query_seconds",
        "Latency of telemetry reads by TSBS query type",
        &["query_type"],
        vec![
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0
        ]
    )
    .expect("metric registers once")
});

/// Chunks (TimescaleDB), partitions (PostgreSQL) or 1 (SQLite) per raw table.
pub static CHUNKS: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "polygate_telemetry_chunks",
        "Chunks or partitions per raw readings table",
        &["table"]
    )
    .expect("metric registers once")
});

/// Seconds between the clock and the oldest rollup watermark after the last refresh.
pub static ROLLUP_LAG: LazyLock<GaugeVec> = LazyLock::new(|| {
    register_gauge_vec!(
        "polygate_telemetry_rollup_lag_seconds",
        "How far the rollup watermark trails the clock",
        &["edition"]
    )
    .expect("metric registers once")
});

/// Maintenance runs by task and outcome.
pub static MAINTENANCE_RUNS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "polygate_telemetry_maintenance_runs_total",
        "Maintenance runs by task and outcome",
        &["task", "outcome"]
    )
    .expect("metric registers once")
});

/// The TSBS devops query types, as `query_type` labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryType {
    SingleGroupby,
    CpuMaxAll,
    DoubleGroupby,
    HighCpu,
    Lastpoint,
    GroupbyOrderbyLimit,
    /// A series of one host per host in a list (`Host.series`).
    HostSeries,
}

impl QueryType {
    pub fn label(self) -> &'static str {
        match self {
            QueryType::SingleGroupby => "single_groupby",
            QueryType::CpuMaxAll => "cpu_max_all",
            QueryType::DoubleGroupby => "double_groupby",
            QueryType::HighCpu => "high_cpu",
            QueryType::Lastpoint => "lastpoint",
            QueryType::GroupbyOrderbyLimit => "groupby_orderby_limit",
            QueryType::HostSeries => "host_series",
        }
    }

    /// Times `call` as this query type.
    pub async fn time<T>(self, call: impl std::future::Future<Output = T>) -> T {
        let timer = QUERY_SECONDS
            .with_label_values(&[self.label()])
            .start_timer();
        let out = call.await;
        timer.observe_duration();
        out
    }
}
