//! What `/metrics` shows about the index: sizes, pending documents and their lag (measured with
//! the clock given), and the recall probe's exact-vs-HNSW figure.
//!
//! Alone in its own test binary: the gauges are process-wide.

mod common;

use std::sync::Arc;

use polygate_kit::metrics::sample;
use polygate_search::embed::MissingModel;
use polygate_search::metrics::{measure_recall, refresh};

#[tokio::test]
async fn gauges_follow_the_index_and_the_lag_of_pending_documents() {
    let f = common::fixture().await;
    f.seed().await;
    refresh(&f.service).await.unwrap();
    let n = polygate_search::seed::DEMO_DOCUMENTS.len() as f64;
    assert_eq!(sample("polygate_search_documents"), n);
    assert_eq!(sample("polygate_search_points"), n);
    assert_eq!(sample("polygate_search_pending_documents"), 0.0);
    assert_eq!(sample("polygate_search_indexing_lag_seconds"), 0.0);
    assert!(sample("polygate_search_index_memory_bytes") > 0.0);

    // The same store seen by a service without a model: a new document waits.
    let (without, clock) =
        common::service(f.service.store.clone(), Arc::new(MissingModel::new(None)));
    let mut doc = polygate_search::seed::demo_documents().remove(0);
    doc.body = polygate_search::domain::Body::parse("changed while the model is missing").unwrap();
    without.ingest(&doc).await.unwrap();
    clock.advance(90_000);
    refresh(&without).await.unwrap();
    assert_eq!(sample("polygate_search_pending_documents"), 1.0);
    assert_eq!(sample("polygate_search_indexing_lag_seconds"), 90.0);
    assert_eq!(sample("polygate_search_model_loaded"), 0.0);
}

#[tokio::test]
async fn the_recall_probe_compares_the_index_with_exact_search() {
    let f = common::fixture().await;
    assert_eq!(
        measure_recall(&f.service, 10, 10, 1).await.unwrap(),
        None,
        "empty collection"
    );
    f.seed().await;
    let recall = measure_recall(&f.service, 10, 10, 1)
        .await
        .unwrap()
        .unwrap();
    // Sixteen points: the graph holds them all and every search finds the exact ten.
    assert_eq!(recall, 1.0);
}
