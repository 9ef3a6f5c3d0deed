//! What the upkeep exports on `/metrics`.

use std::sync::LazyLock;

use prometheus::{
    IntCounterVec, IntGauge, IntGaugeVec, register_int_counter_vec, register_int_gauge,
    register_int_gauge_vec,
};

pub static LEADER: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "polygate_commerce_upkeep_leader",
        "1 while this process leads the store's upkeep (one process in the fleet should)"
    )
    .expect("metric registers once")
});

pub static PASSES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "polygate_commerce_upkeep_passes_total",
        "Upkeep passes this process ran, by outcome (ok, error)",
        &["outcome"]
    )
    .expect("metric registers once")
});

pub static LAST_SUCCESS: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "polygate_commerce_upkeep_last_success_timestamp_seconds",
        "When this process last finished an upkeep pass (Unix seconds; 0: never)"
    )
    .expect("metric registers once")
});

pub static DEFAULT_ROWS: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "polygate_commerce_default_partition_rows",
        "Rows in the DEFAULT partitions of orders and order_items after the last pass (want 0)",
        &["database"]
    )
    .expect("metric registers once")
});

pub static BLOCKED_MONTHS: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "polygate_commerce_blocked_partitions",
        "Month partitions the last pass could not create because DEFAULT holds their rows",
        &["database"]
    )
    .expect("metric registers once")
});

pub static DRIFT_ROWS: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "polygate_commerce_inventory_drift_rows",
        "Stock rows whose reserved count disagrees with their held reservations (want 0)"
    )
    .expect("metric registers once")
});

pub static ARCHIVED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "polygate_commerce_archived_rows_total",
        "Settled rows and final payments moved from the hot tables to their archives",
        &["table"]
    )
    .expect("metric registers once")
});
