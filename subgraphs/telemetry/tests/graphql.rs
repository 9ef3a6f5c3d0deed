//! The telemetry schema end to end on the embedded store: the demo fleet, the TSBS query types,
//! reporting metrics, validation, and the federation entities.

mod common;

use chrono::Duration;
use common::{codes, customer, fixture, json, now, staff};
use serde_json::json;

#[tokio::test]
async fn the_demo_fleet_has_a_day_of_readings_up_to_the_clock() {
    let f = fixture().await;
    let written = f.seed().await;
    assert_eq!(
        written,
        20 * 8_641 * 4,
        "20 hosts × a day of 10 s ticks (both ends) × 4"
    );

    let response = f
        .run(
            "{ lastReadings { host { hostname team } measurement time } }",
            json!({}),
            None,
        )
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let readings = json(&response)["lastReadings"].as_array().unwrap().clone();
    assert_eq!(readings.len(), 20 * 4);
    assert!(
        readings
            .iter()
            .all(|r| r["time"] == "2024-03-01T12:00:00.000Z"),
        "{readings:?}"
    );
    let teams: std::collections::BTreeSet<_> = readings
        .iter()
        .map(|r| r["host"]["team"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        teams.into_iter().collect::<Vec<_>>(),
        ["data", "engineering", "platform"]
    );

    let recent = f
        .run(
            r#"{ metricSeries(metrics: [CPU_USAGE_USER], window: {last: "1h"}, bucket: "1m") {
                   metric points { time value } } }"#,
            json!({}),
            None,
        )
        .await;
    assert!(recent.errors.is_empty(), "{:?}", recent.errors);
    let points = json(&recent)["metricSeries"][0]["points"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(
        points.len(),
        60,
        "the last hour by the minute, ending with now's minute"
    );
    assert_eq!(points[59]["time"], "2024-03-01T12:00:00.000Z");
}

#[tokio::test]
async fn seeding_again_writes_nothing_and_a_later_start_catches_up() {
    let f = fixture().await;
    f.seed().await;
    assert_eq!(f.seed().await, 0, "same clock: nothing new");
    f.clock.advance(Duration::hours(1));
    assert_eq!(
        f.seed().await,
        20 * 360 * 4,
        "an hour later: that hour's readings"
    );
}

#[tokio::test]
async fn reporting_metrics_needs_staff_and_writes_a_batch_once() {
    let f = fixture().await;
    f.seed().await;
    let mutation =
        r#"mutation($r: [ReadingInput!]!) { reportMetrics(readings: $r) { inserted duplicates } }"#;
    let time = (now() + Duration::seconds(5)).to_rfc3339();
    let readings = json!([
        {"hostname": "host_0", "time": time, "cpu": [91,2,7,0,0,0,0,0,0,0], "net": [1,2,3,4,5,6,7,8]},
        {"hostname": "host_1", "time": time, "mem": [8,4,4,2,1,1,50,50,10]},
    ]);

    let anonymous = f.run(mutation, json!({"r": readings}), None).await;
    assert_eq!(codes(&anonymous), ["UNAUTHENTICATED"]);
    let customer = f
        .run(mutation, json!({"r": readings}), Some(customer()))
        .await;
    assert_eq!(codes(&customer), ["FORBIDDEN"]);

    let first = f.run(mutation, json!({"r": readings}), Some(staff())).await;
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    assert_eq!(
        json(&first)["reportMetrics"],
        json!({"inserted": 3, "duplicates": 0})
    );
    let again = f.run(mutation, json!({"r": readings}), Some(staff())).await;
    assert_eq!(
        json(&again)["reportMetrics"],
        json!({"inserted": 0, "duplicates": 3})
    );

    let last = f
        .run(r#"{ host(hostname: "host_0") { lastReadings { measurement value(metric: CPU_USAGE_USER) } } }"#, json!({}), None)
        .await;
    assert_eq!(
        json(&last)["host"]["lastReadings"][0],
        json!({"measurement": "CPU", "value": 91.0})
    );
}

#[tokio::test]
async fn a_batch_with_one_bad_row_is_refused_whole() {
    let f = fixture().await;
    f.seed().await;
    let mutation = r#"mutation($r: [ReadingInput!]!) { reportMetrics(readings: $r) { inserted } }"#;
    let good_time = (now() + Duration::seconds(5)).to_rfc3339();
    let cases = [
        (
            json!({"hostname": "no-such-host", "time": good_time, "cpu": [1,1,1,1,1,1,1,1,1,1]}),
            "not registered",
        ),
        (
            json!({"hostname": "host_2", "time": (now() + Duration::hours(1)).to_rfc3339(), "cpu": [1,1,1,1,1,1,1,1,1,1]}),
            "ahead of the clock",
        ),
        (
            json!({"hostname": "host_2", "time": (now() - Duration::days(8)).to_rfc3339(), "cpu": [1,1,1,1,1,1,1,1,1,1]}),
            "older than the retention",
        ),
        (
            json!({"hostname": "host_2", "time": good_time, "cpu": [1,1,1]}),
            "cpu takes 10 values, got 3",
        ),
        (
            json!({"hostname": "host_2", "time": "yesterday", "cpu": [1,1,1,1,1,1,1,1,1,1]}),
            "RFC 3339",
        ),
    ];
    for (bad, message) in cases {
        let good = json!({"hostname": "host_3", "time": good_time, "cpu": [1,1,1,1,1,1,1,1,1,1]});
        let response = f
            .run(mutation, json!({"r": [good, bad]}), Some(staff()))
            .await;
        assert_eq!(codes(&response), ["BAD_USER_INPUT"], "{message}");
        let text = &response.errors[0].message;
        assert!(
            text.contains(message) && text.contains("reading 1"),
            "{text}"
        );
    }
    let last = f
        .run(
            r#"{ host(hostname: "host_3") { lastReadings { time } } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        json(&last)["host"]["lastReadings"][0]["time"],
        "2024-03-01T12:00:00.000Z",
        "the good row of every refused batch was not written"
    );

    let too_many: Vec<_> = (0..1001)
        .map(|i| json!({"hostname": "host_3", "time": (now() - Duration::seconds(i)).to_rfc3339(), "cpu": [1,1,1,1,1,1,1,1,1,1]}))
        .collect();
    let response = f.run(mutation, json!({"r": too_many}), Some(staff())).await;
    assert_eq!(codes(&response), ["BAD_USER_INPUT"]);
    assert!(response.errors[0].message.contains("at most 1000"));
}

#[tokio::test]
async fn bad_windows_buckets_and_metrics_are_bad_user_input() {
    let f = fixture().await;
    let query = r#"query($m: [Metric!]!, $w: WindowInput!, $b: String!) {
        metricSeries(metrics: $m, window: $w, bucket: $b) { metric } }"#;
    let cases = [
        (
            json!(["CPU_USAGE_USER"]),
            json!({"from": "2024-03-01T12:00:00Z", "to": "2024-03-01T11:00:00Z"}),
            "1m",
            "from must be before to",
        ),
        (
            json!(["CPU_USAGE_USER"]),
            json!({"last": "30d"}),
            "10s",
            "buckets",
        ),
        (
            json!(["CPU_USAGE_USER"]),
            json!({"last": "1h"}),
            "7m",
            "must divide a day",
        ),
        (
            json!(["CPU_USAGE_USER", "MEM_USED"]),
            json!({"last": "1h"}),
            "1m",
            "one measurement",
        ),
        (
            json!(["CPU_USAGE_USER"]),
            json!({"last": "1h", "from": "2024-03-01T11:00:00Z"}),
            "1m",
            "either `last`",
        ),
    ];
    for (metrics, window, bucket, message) in cases {
        let response = f
            .run(query, json!({"m": metrics, "w": window, "b": bucket}), None)
            .await;
        assert_eq!(codes(&response), ["BAD_USER_INPUT"], "{message}");
        assert!(
            response.errors[0].message.contains(message),
            "{}",
            response.errors[0].message
        );
    }
}

#[tokio::test]
async fn every_tsbs_query_type_answers_through_graphql() {
    let f = fixture().await;
    f.seed().await;
    let eight: Vec<String> = (1..=8).map(|i| i.to_string()).collect();
    let queries = [
        // single-groupby-5-8-1: 5 metrics, 8 hosts, 1 hour by the minute, max.
        (
            r#"query($h: [ID!]) { q: metricSeries(metrics: [CPU_USAGE_USER, CPU_USAGE_SYSTEM, CPU_USAGE_IDLE, CPU_USAGE_NICE, CPU_USAGE_IOWAIT], hostIds: $h, window: {last: "1h"}, bucket: "1m", aggregate: MAX) { metric points { value } } }"#,
            5,
        ),
        // cpu-max-all-8: every cpu metric, 8 hosts, 8 hours by the hour.
        (
            r#"query($h: [ID!]) { q: metricSeries(metrics: [CPU_USAGE_USER, CPU_USAGE_SYSTEM, CPU_USAGE_IDLE, CPU_USAGE_NICE, CPU_USAGE_IOWAIT, CPU_USAGE_IRQ, CPU_USAGE_SOFTIRQ, CPU_USAGE_STEAL, CPU_USAGE_GUEST, CPU_USAGE_GUEST_NICE], hostIds: $h, window: {last: "8h"}, bucket: "1h", aggregate: MAX) { metric } }"#,
            10,
        ),
        // double-groupby-1: every host, 12 hours by the hour, avg.
        (
            r#"{ q: metricSeries(metrics: [CPU_USAGE_USER], window: {last: "12h"}, bucket: "1h", perHost: true) { host { hostname } points { value } } }"#,
            20,
        ),
        // high-cpu-all.
        (
            r#"{ q: hostsAbove(threshold: 90, window: {last: "12h"}) { host { hostname } time value } }"#,
            0,
        ),
        // groupby-orderby-limit.
        (r#"{ q: latestBuckets(limit: 5) { time value } }"#, 5),
    ];
    for (query, expected_len) in queries {
        let response = f.run(query, json!({"h": eight}), None).await;
        assert!(response.errors.is_empty(), "{query}: {:?}", response.errors);
        let list = json(&response)["q"].as_array().unwrap().clone();
        if expected_len > 0 {
            assert_eq!(list.len(), expected_len, "{query}");
        } else {
            assert!(
                !list.is_empty(),
                "some cpu spikes above 90 in 12 h of 20 hosts"
            );
            assert!(list.iter().all(|r| r["value"].as_f64().unwrap() > 90.0));
        }
    }
}

#[tokio::test]
async fn gap_filling_shows_empty_buckets_as_null_or_the_previous_value() {
    let f = fixture().await;
    f.seed().await;
    // The seed reaches 12:00:00; 12:01 to 12:04 have no readings.
    let query = r#"query($fill: Fill!) { host(hostname: "host_0") { series(metrics: [MEM_USED_PERCENT],
        window: {from: "2024-03-01T11:58:00Z", to: "2024-03-01T12:04:00Z"}, bucket: "1m", fill: $fill) {
        points { time value } } } }"#;
    let values = |fill: &'static str| {
        let f = &f;
        async move {
            let response = f.run(query, json!({"fill": fill}), None).await;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
            json(&response)["host"]["series"][0]["points"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["value"].as_f64())
                .collect::<Vec<_>>()
        }
    };
    let none = values("NONE").await;
    assert_eq!(none.len(), 3, "11:58, 11:59 and 12:00 have readings");
    let null = values("NULL").await;
    assert_eq!(null.len(), 6);
    assert_eq!(&null[3..], &[None, None, None]);
    let previous = values("PREVIOUS").await;
    assert_eq!(&previous[3..], &[none[2], none[2], none[2]]);
}

#[tokio::test]
async fn times_and_values_carry_exactly_the_points_gaps_included() {
    let f = fixture().await;
    f.seed().await;
    // Ends past the seed's 12:00, so NULL filling puts nulls in the columns too.
    let query = r#"{ metricSeries(metrics: [CPU_USAGE_USER, CPU_USAGE_SYSTEM], hostIds: ["1", "2"],
        window: {from: "2024-03-01T11:00:00Z", to: "2024-03-01T12:05:00Z"}, bucket: "1m",
        aggregate: MAX, perHost: true, fill: NULL) { hostId metric points { time value } times values } }"#;
    let response = f.run(query, json!({}), None).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let series = json(&response)["metricSeries"].as_array().unwrap().clone();
    assert_eq!(series.len(), 4, "2 hosts × 2 metrics");
    for s in &series {
        let points = s["points"].as_array().unwrap();
        assert_eq!(points.len(), 65, "{s}");
        let times: Vec<_> = points.iter().map(|p| p["time"].clone()).collect();
        let values: Vec<_> = points.iter().map(|p| p["value"].clone()).collect();
        assert_eq!(s["times"].as_array().unwrap(), &times);
        assert_eq!(s["values"].as_array().unwrap(), &values);
        assert!(values[..61].iter().all(|v| v.is_f64()), "{s}");
        assert!(values[61..].iter().all(|v| v.is_null()), "{s}");
    }
}

#[tokio::test]
async fn hosts_are_entities_by_id_and_hostname_and_departments_list_theirs() {
    let f = fixture().await;
    f.seed().await;
    let query = r#"query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Host { id hostname team ownerDepartment { id } }
        ... on Department { id hosts { hostname } } } }"#;
    let representations = json!([
        {"__typename": "Host", "id": "1"},
        {"__typename": "Host", "hostname": "host_5"},
        {"__typename": "Department", "id": "data"},
        {"__typename": "Department", "id": "sales"},
    ]);
    let response = f.run(query, json!({"r": representations}), None).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let entities = json(&response)["_entities"].clone();
    assert_eq!(entities[0]["hostname"], "host_0");
    assert_eq!(entities[0]["ownerDepartment"]["id"], entities[0]["team"]);
    assert_eq!(entities[1]["id"], "6");
    let data_hosts = entities[2]["hosts"].as_array().unwrap();
    assert_eq!(
        data_hosts.len(),
        7,
        "host_1, host_4, … host_19: every third from 1"
    );
    assert_eq!(entities[3]["hosts"], json!([]), "sales owns no hosts");
}

#[tokio::test]
async fn the_sdl_declares_both_host_keys_and_the_department_entity() {
    let sdl = polygate_telemetry::sdl();
    assert!(
        sdl.contains(r#"type Host @key(fields: "id") @key(fields: "hostname")"#),
        "{sdl}"
    );
    assert!(
        sdl.contains(r#"type Department @key(fields: "id")"#),
        "{sdl}"
    );
}

#[tokio::test]
async fn maintenance_rolls_up_applies_retention_and_exports_chunk_counts() {
    let f = fixture().await;
    f.seed().await;
    let settings = polygate_telemetry::TelemetrySettings::default();
    polygate_telemetry::maintenance::run_once(f.store.as_ref(), &settings, now()).await;
    let metrics = polygate_kit::metrics::render();
    assert!(
        metrics.contains(r#"polygate_telemetry_chunks{table="cpu"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"polygate_telemetry_rollup_lag_seconds{edition="Sqlite"} 0"#));
    assert!(
        metrics.contains(
            r#"polygate_telemetry_maintenance_runs_total{outcome="ok",task="retention"}"#
        )
    );

    // A week later the demo day is past the raw retention: its readings go, its rollups stay.
    let later = now() + Duration::days(8);
    polygate_telemetry::maintenance::run_once(f.store.as_ref(), &settings, later).await;
    let query = r#"{ metricSeries(metrics: [CPU_USAGE_USER], window: {from: "2024-03-01T10:00:00Z", to: "2024-03-01T12:00:00Z"}, bucket: "1h") { points { value } } }"#;
    let response = f.run(query, json!({}), None).await;
    assert_eq!(
        json(&response)["metricSeries"][0]["points"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "from the 1-hour rollup"
    );
    let raw = r#"{ metricSeries(metrics: [CPU_USAGE_USER], window: {from: "2024-03-01T10:00:00Z", to: "2024-03-01T12:00:00Z"}, bucket: "10s") { points { value } } }"#;
    assert_eq!(
        json(&f.run(raw, json!({}), None).await)["metricSeries"],
        json!([]),
        "raw readings dropped"
    );
}
