//! Prometheus metrics every process exports on `/metrics`.
//!
//! One process-wide registry (the `prometheus` default one), so the gateway running subgraphs
//! in-process exports their store metrics next to its own.

use std::sync::LazyLock;
use std::time::Instant;

use prometheus::{
    GaugeVec, HistogramVec, IntCounterVec, register_gauge_vec, register_histogram_vec,
    register_int_counter_vec,
};

/// Store calls by subgraph, store engine and operation, with their latency.
pub static STORE_CALL_SECONDS: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "polygate_store_call_seconds",
        "Latency of calls from a subgraph to its store",
        &["subgraph", "engine", "operation", "outcome"],
        vec![
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0
        ]
    )
    .expect("metric registers once")
});

/// Cache look-ups by cache name and result (`hit` / `miss` / `error`: the cache failed and the
/// store answered).
pub static CACHE_LOOKUPS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "polygate_cache_lookups_total",
        "Cache look-ups by cache and result",
        &["cache", "result"]
    )
    .expect("metric registers once")
});

/// Share of a cache's look-ups answered from the cache since the process started:
/// `hit / (hit + miss + error)` of [`CACHE_LOOKUPS`]. Errors count against the ratio, so an
/// outage of the cache shows as a falling ratio, not a flattering one. For a windowed ratio use
/// the counters in PromQL (`rate(...{result="hit"}) / rate(...)`).
pub static CACHE_HIT_RATIO: LazyLock<GaugeVec> = LazyLock::new(|| {
    register_gauge_vec!(
        "polygate_cache_hit_ratio",
        "Share of cache look-ups answered from the cache since start",
        &["cache"]
    )
    .expect("metric registers once")
});

/// Counts `hits`, `misses` and `errors` look-ups of `cache` and refreshes its hit ratio.
pub fn record_cache_lookups(cache: &str, hits: u64, misses: u64, errors: u64) {
    let counter = |result: &str| CACHE_LOOKUPS.with_label_values(&[cache, result]);
    let (hit, miss, error) = (counter("hit"), counter("miss"), counter("error"));
    hit.inc_by(hits);
    miss.inc_by(misses);
    error.inc_by(errors);
    let total = hit.get() + miss.get() + error.get();
    if total > 0 {
        CACHE_HIT_RATIO
            .with_label_values(&[cache])
            .set(hit.get() as f64 / total as f64);
    }
}

/// The look-up counters of one cache, resolved once so a hot path only bumps atomics
/// (`hit`: answered in place; `miss`: the store was asked; `error`: the store could not answer).
pub struct CacheLookups {
    hit: prometheus::IntCounter,
    miss: prometheus::IntCounter,
    error: prometheus::IntCounter,
    ratio: prometheus::Gauge,
}

impl CacheLookups {
    pub fn new(cache: &str) -> Self {
        let counter = |result: &str| CACHE_LOOKUPS.with_label_values(&[cache, result]);
        CacheLookups {
            hit: counter("hit"),
            miss: counter("miss"),
            error: counter("error"),
            ratio: CACHE_HIT_RATIO.with_label_values(&[cache]),
        }
    }

    pub fn hit(&self) {
        self.count(&self.hit);
    }

    pub fn miss(&self) {
        self.count(&self.miss);
    }

    pub fn error(&self) {
        self.count(&self.error);
    }

    fn count(&self, counter: &prometheus::IntCounter) {
        counter.inc();
        let (hit, miss, error) = (self.hit.get(), self.miss.get(), self.error.get());
        self.ratio
            .set(hit as f64 / (hit + miss + error).max(1) as f64);
    }
}

/// Times one store call and records it when finished.
pub struct StoreCallTimer {
    labels: [&'static str; 3],
    started: Instant,
}

impl StoreCallTimer {
    pub fn start(subgraph: &'static str, engine: &'static str, operation: &'static str) -> Self {
        Self {
            labels: [subgraph, engine, operation],
            started: Instant::now(),
        }
    }

    /// Records the call with its outcome and passes the result through.
    pub fn finish<T, E>(self, result: Result<T, E>) -> Result<T, E> {
        let outcome = if result.is_ok() { "ok" } else { "error" };
        let [s, e, o] = self.labels;
        STORE_CALL_SECONDS
            .with_label_values(&[s, e, o, outcome])
            .observe(self.started.elapsed().as_secs_f64());
        result
    }
}

/// Number of store calls recorded so far for a subgraph and operation (any engine, any outcome).
/// Tests use it to prove batching: N entity representations cost one store call.
pub fn store_calls(subgraph: &str, operation: &str) -> u64 {
    prometheus::gather()
        .iter()
        .filter(|family| family.name() == "polygate_store_call_seconds")
        .flat_map(|family| family.get_metric())
        .filter(|m| {
            let label = |name: &str| {
                m.get_label()
                    .iter()
                    .find(|l| l.name() == name)
                    .map(|l| l.value().to_owned())
            };
            label("subgraph").as_deref() == Some(subgraph)
                && label("operation").as_deref() == Some(operation)
        })
        .map(|m| m.get_histogram().get_sample_count())
        .sum()
}

/// The value of the unlabelled sample `name` (e.g. a gauge, or a histogram's `_count`), 0 if
/// absent. Tests use it; read from the text because the registry's structs change accessors with
/// the `prometheus` crate's features.
pub fn sample(name: &str) -> f64 {
    render()
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

/// The whole registry in Prometheus text format.
pub fn render() -> String {
    let families = prometheus::gather();
    let mut out = String::new();
    prometheus::TextEncoder::new()
        .encode_utf8(&families, &mut out)
        .unwrap_or_else(|e| tracing::warn!(error = %e, "metrics encoding failed"));
    out
}
