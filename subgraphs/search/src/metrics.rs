//! What the search subgraph exports on `/metrics` besides the kit's store-call latency
//! (`polygate_store_call_seconds{subgraph="search"}`), and the monitor that refreshes the gauges.
//!
//! Non-obvious: recall is measured, not assumed. Every `recall_probe_every_secs` the probe takes
//! stored vectors as queries and compares the index's top 10 with an exact scan's; a drop (too
//! low `ef`, a bad rebuild, a quantization change) shows on a dashboard before users notice.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{
    Gauge, HistogramVec, IntGauge, register_gauge, register_histogram_vec, register_int_gauge,
};

use crate::domain::Filter;
use crate::service::SearchService;
use crate::store::{Exactness, StoreError};

/// End-to-end search latency (embedding + index + payload), by kind and whether filtered.
pub static QUERY_SECONDS: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "polygate_search_query_seconds",
        "Latency of semantic searches (embedding the query included)",
        &["kind", "filtered"],
        vec![
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5
        ]
    )
    .expect("metric registers once")
});

/// Mean recall@10 of the index against exact search in the last probe (0 to 1).
pub static RECALL_AT_10: LazyLock<Gauge> = LazyLock::new(|| {
    register_gauge!(
        "polygate_search_recall_at_10",
        "Recall@10 of the HNSW index against exact search, last probe"
    )
    .expect("metric registers once")
});

pub static DOCUMENTS: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "polygate_search_documents",
        "Documents in the source of truth"
    )
    .expect("metric registers once")
});

pub static POINTS: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "polygate_search_points",
        "Chunks (vector points) in the collection the alias names"
    )
    .expect("metric registers once")
});

pub static PENDING: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "polygate_search_pending_documents",
        "Documents whose current version is not indexed yet"
    )
    .expect("metric registers once")
});

/// Age of the oldest pending document: how far the index is behind its source of truth.
pub static INDEXING_LAG_SECONDS: LazyLock<Gauge> = LazyLock::new(|| {
    register_gauge!(
        "polygate_search_indexing_lag_seconds",
        "Seconds since the oldest not-yet-indexed document changed (0 when none waits)"
    )
    .expect("metric registers once")
});

pub static INDEX_MEMORY_BYTES: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "polygate_search_index_memory_bytes",
        "Memory of the embedded HNSW graph and its quantized vectors"
    )
    .expect("metric registers once")
});

pub static MODEL_LOADED: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "polygate_search_model_loaded",
        "1 when the embedding model is loaded, 0 when searches fail for want of it"
    )
    .expect("metric registers once")
});

pub static FEED_POSITION: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "polygate_search_feed_position",
        "Position of the product content feed applied so far"
    )
    .expect("metric registers once")
});

/// Refreshes the size and lag gauges from the store; `now_ms` from the service's clock.
pub async fn refresh(service: &SearchService) -> Result<(), StoreError> {
    let stats = service.store.stats().await?;
    DOCUMENTS.set(stats.documents as i64);
    POINTS.set(stats.chunks as i64);
    PENDING.set(stats.pending as i64);
    let lag = stats
        .oldest_pending_ms
        .map_or(0.0, |t| (service.clock.now_ms() - t).max(0) as f64 / 1000.0);
    INDEXING_LAG_SECONDS.set(lag);
    INDEX_MEMORY_BYTES.set(stats.graph_memory_bytes as i64);
    MODEL_LOADED.set(i64::from(service.embedder.model() != "none"));
    Ok(())
}

/// Recall@`k` of the index against exact search over `sample` stored vectors (`seed` picks
/// them); `None` when the collection is empty.
pub async fn measure_recall(
    service: &SearchService,
    sample: usize,
    k: usize,
    seed: u64,
) -> Result<Option<f64>, StoreError> {
    let queries = service.store.sample_vectors(sample, seed).await?;
    if queries.is_empty() {
        return Ok(None);
    }
    let mut found = 0usize;
    let mut wanted = 0usize;
    for q in &queries {
        let filter = Filter::default();
        let exact = service
            .store
            .nearest_chunks(q, &filter, k, Exactness::Exact)
            .await?;
        let approx = service
            .store
            .nearest_chunks(q, &filter, k, Exactness::Approximate)
            .await?;
        wanted += exact.len();
        found += exact
            .iter()
            .filter(|e| approx.iter().any(|a| a.id == e.id))
            .count();
    }
    Ok((wanted > 0).then(|| found as f64 / wanted as f64))
}

/// The monitor task: gauges every 15 s, a recall probe every `probe_every` (none when zero).
pub async fn monitor(service: SearchService, probe_every: Duration, sample: usize) {
    let tick = Duration::from_secs(15);
    let mut since_probe = probe_every;
    let mut round = 0u64;
    loop {
        if let Err(e) = refresh(&service).await {
            tracing::warn!(error = %e, "search metrics refresh failed");
        }
        if !probe_every.is_zero() && since_probe >= probe_every {
            since_probe = Duration::ZERO;
            round += 1;
            match measure_recall(&service, sample, 10, round).await {
                Ok(Some(recall)) => RECALL_AT_10.set(recall),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "recall probe failed"),
            }
        }
        tokio::time::sleep(tick).await;
        since_probe += tick;
    }
}
