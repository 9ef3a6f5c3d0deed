//! Every document a response shows costs one `documents_by_ids` store call: twenty `_entities`
//! representations, or the documents of ten hits.
//!
//! Alone in its own test binary: the store-call counter is process-wide, so a parallel test in
//! the same binary could move it.

mod common;

use polygate_kit::metrics::store_calls;
use serde_json::json;

#[tokio::test]
async fn twenty_representations_and_ten_hits_each_cost_one_store_call() {
    let f = common::fixture().await;
    f.seed().await;
    let ids: Vec<&str> = polygate_search::seed::DEMO_DOCUMENTS
        .iter()
        .map(|d| d.0)
        .chain([
            "guides:missing-1",
            "guides:missing-2",
            "guides:missing-3",
            "guides:missing-4",
        ])
        .collect();
    assert_eq!(ids.len(), 20);
    let representations: Vec<_> = ids
        .iter()
        .map(|id| json!({"__typename": "Document", "id": id}))
        .collect();

    let before = store_calls("search", "documents_by_ids");
    let r = f
        .run(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Document { id } } }",
            json!({"r": representations}),
            None,
        )
        .await;
    let after = store_calls("search", "documents_by_ids");
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(common::json(&r)["_entities"].as_array().unwrap().len(), 20);
    assert_eq!(
        after - before,
        1,
        "one documents_by_ids call for 20 representations"
    );

    let before = store_calls("search", "documents_by_ids");
    let r = f
        .run("{ search(text: \"coffee kettle mug tea\", first: 10) { document { id title } product { sku } } }", json!({}), None)
        .await;
    let after = store_calls("search", "documents_by_ids");
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(common::json(&r)["search"].as_array().unwrap().len(), 10);
    assert_eq!(
        after - before,
        1,
        "one documents_by_ids call for ten hits' documents and products"
    );
}
