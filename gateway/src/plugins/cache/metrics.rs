//! `polygate_cache_events_total{level, event, type}`: hits, misses, stores, expiries,
//! stale-drops, evictions and invalidations, per cache level and per GraphQL type (a label set
//! bounded by the supergraph's types).

use std::sync::LazyLock;

use prometheus::{IntCounterVec, register_int_counter_vec};

static EVENTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "polygate_cache_events_total",
        "Gateway cache events by level (l1, l2), event and GraphQL type",
        &["level", "event", "type"]
    )
    .expect("metric registers once")
});

pub fn event(level: &str, event: &str, type_name: &str) {
    EVENTS.with_label_values(&[level, event, type_name]).inc();
}

/// The current count of one event (tests).
pub fn count(level: &str, event: &str, type_name: &str) -> u64 {
    EVENTS.with_label_values(&[level, event, type_name]).get()
}
