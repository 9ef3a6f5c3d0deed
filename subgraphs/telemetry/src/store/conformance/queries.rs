//! The TSBS devops query types over raw readings, against the in-memory reference.

use chrono::Duration;

use super::fixtures::{day, readings, register, write};
use super::reference::{self, assert_same_buckets, assert_same_rows};
use crate::domain::{
    AboveSpec, Aggregate, BucketWidth, Fill, HostSelection, LatestBucketsSpec, Measurement, Metric,
    SeriesSpec, TimeWindow,
};
use crate::store::TelemetryStore;

pub async fn series_aggregate_buckets_over_the_selected_hosts(store: &dyn TelemetryStore) {
    let hosts = register(store, "single", 3).await;
    let written = readings(&hosts, Measurement::Cpu, day(20), 10, 360);
    write(store, &written).await;
    let two = HostSelection::only(vec![hosts[0].id, hosts[2].id], "hosts").unwrap();
    // Windows that start mid-bucket and buckets the rollups cannot tile: raw readings answer.
    let window = TimeWindow::new(
        day(20) + Duration::seconds(35),
        day(20) + Duration::minutes(50),
    )
    .unwrap();
    for aggregate in [
        Aggregate::Avg,
        Aggregate::Max,
        Aggregate::Min,
        Aggregate::Sum,
        Aggregate::Count,
    ] {
        for (metrics, bucket) in [
            (vec![Metric::CpuUsageUser], "1m"),
            (Measurement::Cpu.metrics()[..5].to_vec(), "5m"),
            (Measurement::Cpu.metrics().to_vec(), "10s"),
        ] {
            let spec = SeriesSpec::new(
                metrics,
                two.clone(),
                window,
                BucketWidth::parse(bucket).unwrap(),
                aggregate,
                false,
                Fill::None,
            )
            .unwrap();
            let actual = store.series(&spec).await.unwrap();
            let expected = reference::series(&spec, &written);
            assert!(!expected.is_empty());
            assert_same_rows(&actual, &expected, &format!("{aggregate:?} by {bucket}"));
        }
    }
}

pub async fn series_per_host_give_one_series_per_host(store: &dyn TelemetryStore) {
    let hosts = register(store, "double", 4).await;
    let written = readings(&hosts, Measurement::Mem, day(21), 30, 240);
    write(store, &written).await;
    let spec = SeriesSpec::new(
        Measurement::Mem.metrics().to_vec(),
        HostSelection::All,
        TimeWindow::new(day(21), day(21) + Duration::hours(2)).unwrap(),
        BucketWidth::parse("15m").unwrap(),
        Aggregate::Avg,
        true,
        Fill::None,
    )
    .unwrap();
    let actual = store.series(&spec).await.unwrap();
    let expected = reference::series(&spec, &written);
    assert_eq!(expected.len(), 4 * 8, "4 hosts × 8 buckets");
    assert_same_rows(&actual, &expected, "double-groupby over all hosts");
}

pub async fn readings_above_a_threshold_come_by_time(store: &dyn TelemetryStore) {
    let hosts = register(store, "above", 3).await;
    let written = readings(&hosts, Measurement::Cpu, day(22), 10, 120);
    write(store, &written).await;
    let window = TimeWindow::new(day(22), day(22) + Duration::minutes(15)).unwrap();
    let threshold = written[0].row.values[0] + 20.0;
    let mut expected: Vec<_> = written
        .iter()
        .filter(|r| r.row.time < window.to && r.row.values[0] > threshold)
        .map(|r| (r.row.time, r.row.host, r.row.values[0]))
        .collect();
    expected.sort_by_key(|a| (a.0, a.1));
    assert!(!expected.is_empty() && expected.len() < written.len());

    let all = AboveSpec::new(
        Metric::CpuUsageUser,
        threshold,
        HostSelection::All,
        window,
        10_000,
    )
    .unwrap();
    let actual: Vec<_> = store
        .readings_above(&all)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.time, r.host, r.value))
        .collect();
    assert_eq!(actual, expected, "high-cpu-all");

    let one = AboveSpec::new(
        Metric::CpuUsageUser,
        threshold,
        HostSelection::only(vec![hosts[1].id], "hosts").unwrap(),
        window,
        3,
    )
    .unwrap();
    let actual = store.readings_above(&one).await.unwrap();
    let expected_one: Vec<_> = expected
        .iter()
        .filter(|e| e.1 == hosts[1].id)
        .take(3)
        .collect();
    assert_eq!(
        actual.len(),
        expected_one.len().min(3),
        "high-cpu-1 honours its limit"
    );
    assert!(
        actual
            .iter()
            .zip(expected_one)
            .all(|(a, e)| (a.time, a.host) == (e.0, e.1))
    );
}

pub async fn latest_buckets_are_the_newest_before_the_moment(store: &dyn TelemetryStore) {
    let hosts = register(store, "latest", 2).await;
    let written = readings(&hosts, Measurement::Cpu, day(23), 10, 400);
    write(store, &written).await;
    for (before, bucket) in [
        (day(23) + Duration::seconds(3005), "1m"),
        (day(23) + Duration::minutes(60), "1m"),
        (day(23) + Duration::minutes(50), "10s"),
    ] {
        let spec = LatestBucketsSpec::new(
            Metric::CpuUsageUser,
            before,
            BucketWidth::parse(bucket).unwrap(),
            Aggregate::Max,
            5,
        )
        .unwrap();
        let actual = store.latest_buckets(&spec).await.unwrap();
        assert_same_buckets(
            &actual,
            &reference::latest(&spec, &written),
            "groupby-orderby-limit",
        );
    }
}
