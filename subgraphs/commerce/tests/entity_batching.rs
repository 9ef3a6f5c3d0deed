//! `_entities` with many `User` representations costs one `users_by_ids` store call.
//!
//! Alone in its own test binary: the store-call counter is process-wide, so a parallel test in
//! the same binary could move it.

mod common;

use polygate_kit::metrics::store_calls;
use serde_json::json;

#[tokio::test]
async fn twenty_five_representations_cost_one_store_query() {
    let f = common::fixture().await;
    let mut ids = Vec::new();
    for n in 0..25 {
        let id = f
            .register(
                &format!("entity{n:02}@example.com"),
                "entity-password",
                &format!("E {n}"),
            )
            .await;
        ids.push(id);
    }
    let representations: Vec<_> = ids
        .iter()
        .map(|id| json!({"__typename": "User", "id": id}))
        .collect();
    let query =
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { id name } } }";

    let before = store_calls("commerce", "users_by_ids");
    let response = f.run(query, json!({"r": representations}), None).await;
    let after = store_calls("commerce", "users_by_ids");

    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let entities = common::json(&response)["_entities"]
        .as_array()
        .unwrap()
        .clone();
    let returned: Vec<&str> = entities.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(returned, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        after - before,
        1,
        "one users_by_ids call for 25 representations"
    );
}
