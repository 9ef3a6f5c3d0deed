//! N employees' managers cost one store call: `_entities` with 30 `Employee` representations
//! selecting `manager` and `reports` makes one `employees_by_ids`, one `managers_of` and one
//! `direct_reports_of` call.
//!
//! Alone in its own test binary: the store-call counter is process-wide. On a current-thread
//! runtime, like commerce's: on a multi-thread one under heavy load, the 30 answers of the
//! first batch can wake their resolvers over several scheduler turns, and the kit's `Batcher`
//! then closes the second batch early (seen here at a load average of 15 on 2 cores: two
//! `managers_of` calls instead of one): a cost of the kit's batcher, not of org.

mod common;

use std::sync::Arc;

use polygate_kit::metrics::store_calls;
use polygate_org::OrgStore as _;
use serde_json::json;

#[tokio::test]
async fn thirty_employees_managers_and_reports_cost_one_store_call_each() {
    let store = common::sqlite_store().await;
    store.import(&polygate_org::chart::demo()).await.unwrap();
    let schema = common::schema(Arc::new(store));
    let representations: Vec<_> = (20..50)
        .map(|n| json!({"__typename": "Employee", "id": format!("user{n:03}")}))
        .collect();
    let request = async_graphql::Request::new(
        "query($r: [_Any!]!) { _entities(representations: $r) {
             ... on Employee { id manager { id name } reports { id } } } }",
    )
    .variables(async_graphql::Variables::from_json(
        json!({"r": representations}),
    ));

    let calls = |op: &str| store_calls("org", op);
    let before = [
        calls("employees_by_ids"),
        calls("managers_of"),
        calls("direct_reports_of"),
    ];
    let response = schema.execute(request).await;
    let after = [
        calls("employees_by_ids"),
        calls("managers_of"),
        calls("direct_reports_of"),
    ];

    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let entities = common::json(&response)["_entities"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(entities.len(), 30);
    assert!(
        entities.iter().all(|e| e["manager"]["id"].is_string()),
        "every one has a manager"
    );
    assert_eq!(
        [
            after[0] - before[0],
            after[1] - before[1],
            after[2] - before[2]
        ],
        [1, 1, 1],
        "one call per field for 30 representations"
    );
}
