//! The catalog's own metrics, next to the kit's store-call and cache metrics.

use std::sync::LazyLock;

use prometheus::{IntCounterVec, IntGaugeVec, register_int_counter_vec, register_int_gauge_vec};

/// Store calls slower than the `slow_op_ms` threshold, by engine and operation: the local
/// equivalent of Atlas's slow-query log / Performance Advisor.
pub static SLOW_OPERATIONS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "polygate_catalog_slow_operations_total",
        "Catalog store calls slower than the slow-operation threshold",
        &["engine", "operation"]
    )
    .expect("metric registers once")
});

/// Product documents by stored schema version, sampled by the migrator: the old-shape count
/// falling to 0 is a finished migration.
pub static DOCUMENTS_BY_VERSION: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "polygate_catalog_documents",
        "Product documents by stored schema version",
        &["schema_version"]
    )
    .expect("metric registers once")
});

/// Loads a cache's single-flight joined instead of asking the store again (stampedes avoided).
pub static CACHE_LOADS_SHARED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "polygate_catalog_cache_loads_shared_total",
        "Cache misses answered by another caller's load of the same key",
        &["cache"]
    )
    .expect("metric registers once")
});
