//! `_entities` with many `Product` representations costs one `products_by_skus` store call.
//!
//! Alone in its own test binary: the store-call counter is process-wide, so a parallel test in
//! the same binary could move it.

mod common;

use polygate_kit::metrics::store_calls;
use serde_json::json;

#[tokio::test]
async fn eight_representations_cost_one_store_query() {
    let f = common::fixture().await;
    polygate_catalog::seed::seed_demo(f.store.as_ref())
        .await
        .unwrap();
    let mut skus: Vec<&str> = polygate_catalog::seed::demo_skus();
    skus.push("NOSUCH-1");
    let representations: Vec<_> = skus
        .iter()
        .map(|sku| json!({"__typename": "Product", "sku": sku}))
        .collect();
    let query = r#"query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Product { sku description variants { sku } rating { count } } } }"#;

    let before = store_calls("catalog", "products_by_skus");
    let data = f.ok(query, json!({"r": representations}), None).await;
    let after = store_calls("catalog", "products_by_skus");

    let entities = data["_entities"].as_array().unwrap();
    let returned: Vec<&str> = entities
        .iter()
        .map(|e| e["sku"].as_str().unwrap())
        .collect();
    assert_eq!(returned, skus, "in the order asked");
    assert!(
        entities[0]["description"]
            .as_str()
            .unwrap()
            .contains("stoneware")
    );
    assert_eq!(
        entities[8]["description"], "",
        "a SKU without content resolves empty"
    );
    assert_eq!(
        after - before,
        1,
        "one products_by_skus call for 9 representations"
    );
}
