//! Lists of hosts cost one store call per field, whatever their length: `_entities` with many
//! `Host` or `Department` representations, and a host list with its newest readings and series.
//!
//! Alone in its own test binary: the store-call counter is process-wide, so a parallel test in
//! the same binary could move it.

mod common;

use polygate_kit::metrics::store_calls;
use serde_json::json;

#[tokio::test]
async fn twenty_hosts_with_readings_and_series_cost_one_store_call_per_field() {
    let f = common::fixture().await;
    f.seed().await;
    let calls = |op: &'static str| store_calls("telemetry", op);

    // The gateway's _entities fetch for 20 hosts, each with its newest readings.
    let representations: Vec<_> = (1..=20)
        .map(|id| json!({"__typename": "Host", "id": id.to_string()}))
        .collect();
    let query = r#"query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Host { hostname lastReadings { measurement time } } } }"#;
    let (hosts, last) = (calls("hosts_by_ids"), calls("last_readings"));
    let response = f.run(query, json!({"r": representations}), None).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let entities = common::json(&response)["_entities"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(entities.len(), 20);
    assert!(
        entities
            .iter()
            .all(|e| e["lastReadings"].as_array().unwrap().len() == 4)
    );
    assert_eq!(
        calls("hosts_by_ids") - hosts,
        1,
        "20 representations, one hosts_by_ids"
    );
    assert_eq!(
        calls("last_readings") - last,
        1,
        "20 hosts' readings, one last_readings"
    );

    // A page of hosts, each with its newest readings and its last hour by the minute.
    let query = r#"{ hosts(first: 20) { nodes { hostname lastReadings { time }
        series(metrics: [CPU_USAGE_USER, CPU_USAGE_IDLE], window: {last: "1h"}) { metric points { value } } } } }"#;
    let (last, series) = (calls("last_readings"), calls("series"));
    let response = f.run(query, json!({}), None).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let nodes = common::json(&response)["hosts"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(nodes.len(), 20);
    assert!(
        nodes
            .iter()
            .all(|n| n["series"].as_array().unwrap().len() == 2)
    );
    assert!(
        nodes
            .iter()
            .all(|n| n["series"][0]["points"].as_array().unwrap().len() == 60)
    );
    assert_eq!(calls("last_readings") - last, 1);
    assert_eq!(
        calls("series") - series,
        1,
        "20 hosts' series, one series call"
    );

    // Org's departments, each with the hosts it owns.
    let representations = json!([
        {"__typename": "Department", "id": "platform"},
        {"__typename": "Department", "id": "data"},
        {"__typename": "Department", "id": "engineering"},
    ]);
    let query = r#"query($r: [_Any!]!) { _entities(representations: $r) { ... on Department { hosts { hostname } } } }"#;
    let teams = calls("hosts_by_teams");
    let response = f.run(query, json!({"r": representations}), None).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let total: usize = common::json(&response)["_entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["hosts"].as_array().unwrap().len())
        .sum();
    assert_eq!(total, 20);
    assert_eq!(
        calls("hosts_by_teams") - teams,
        1,
        "3 departments, one hosts_by_teams"
    );
}
