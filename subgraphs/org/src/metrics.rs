//! The org subgraph's own metrics, beside the kit's store-call latency (which is labelled by
//! named query, so `polygate_store_call_seconds{subgraph="org",operation="subordinates"}` is the
//! latency of one Cypher or SQL file):
//! - `polygate_org_store_calls_in_flight{engine}` and `polygate_org_pool_max_connections{engine}`:
//!   pool usage, as calls holding or waiting for a connection against the pool's bound;
//! - `polygate_org_query_db_hits{query}` and `polygate_org_query_rows{query}`: what `PROFILE`
//!   measured for each named Cypher query on the live graph (`polygate-org profile`, or the
//!   profiling task when `profile_every_secs` is set): db hits are only known by profiling.
//! - `polygate_org_store_retries_total{engine}`: calls retried after a transient error or a
//!   lost connection (a leader switch, a restart).

use std::sync::LazyLock;

use prometheus::{IntCounterVec, IntGaugeVec, register_int_counter_vec, register_int_gauge_vec};

pub static IN_FLIGHT: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "polygate_org_store_calls_in_flight",
        "Org store calls running or waiting for a connection",
        &["engine"]
    )
    .expect("metric registers once")
});

pub static POOL_MAX: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "polygate_org_pool_max_connections",
        "Bound of the org store's connection pool",
        &["engine"]
    )
    .expect("metric registers once")
});

pub static DB_HITS: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "polygate_org_query_db_hits",
        "Database hits of a named Cypher query, as last profiled",
        &["query"]
    )
    .expect("metric registers once")
});

pub static ROWS: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "polygate_org_query_rows",
        "Rows of a named Cypher query, as last profiled",
        &["query"]
    )
    .expect("metric registers once")
});

pub static RETRIES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "polygate_org_store_retries_total",
        "Org store calls retried after a transient error or a lost connection",
        &["engine"]
    )
    .expect("metric registers once")
});

/// Records the pool bound of an opened store.
pub fn pool_size(engine: &str, max: u32) {
    POOL_MAX.with_label_values(&[engine]).set(i64::from(max));
}

/// One call in flight; leaves on drop (also when the call times out).
pub struct InFlight(&'static str);

impl InFlight {
    pub fn enter(engine: &'static str) -> Self {
        IN_FLIGHT.with_label_values(&[engine]).inc();
        Self(engine)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.with_label_values(&[self.0]).dec();
    }
}
