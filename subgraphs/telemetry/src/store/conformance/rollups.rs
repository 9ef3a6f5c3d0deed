//! Rollups answer like raw readings (before, across and after the watermark), take late
//! readings in, and outlive the raw readings under retention.

use chrono::Duration;

use super::fixtures::{day, readings, register, write};
use super::reference::{self, assert_same_buckets, assert_same_rows};
use crate::domain::{
    Aggregate, BucketWidth, Fill, Host, HostSelection, LatestBucketsSpec, Measurement, Metric,
    RawReading, SeriesSpec, TimeWindow,
};
use crate::store::{RetentionCutoffs, TelemetryStore};

fn spec(
    hosts: &[Host],
    from: chrono::DateTime<chrono::Utc>,
    span: Duration,
    bucket: &str,
    aggregate: Aggregate,
) -> SeriesSpec {
    SeriesSpec::new(
        vec![Metric::CpuUsageUser, Metric::CpuUsageIdle],
        HostSelection::only(hosts.iter().map(|h| h.id).collect(), "hosts").unwrap(),
        TimeWindow::new(from, from + span).unwrap(),
        BucketWidth::parse(bucket).unwrap(),
        aggregate,
        true,
        Fill::None,
    )
    .unwrap()
}

/// Every aggregate by the minute (1-minute rollup) and by the hour (1-hour rollup) over
/// `from + span`, against the reference.
async fn check_tiled_queries(
    store: &dyn TelemetryStore,
    hosts: &[Host],
    written: &[RawReading],
    from: chrono::DateTime<chrono::Utc>,
    span: Duration,
    when: &str,
) {
    for aggregate in [
        Aggregate::Avg,
        Aggregate::Max,
        Aggregate::Min,
        Aggregate::Sum,
        Aggregate::Count,
    ] {
        for bucket in ["1m", "5m", "1h"] {
            let spec = spec(hosts, from, span, bucket, aggregate);
            let actual = store.series(&spec).await.unwrap();
            let expected = reference::series(&spec, written);
            assert!(!expected.is_empty());
            assert_same_rows(
                &actual,
                &expected,
                &format!("{when}: {aggregate:?} by {bucket}"),
            );
        }
    }
}

pub async fn series_answer_the_same_from_rollups_as_from_raw_readings(store: &dyn TelemetryStore) {
    let hosts = register(store, "rollup", 3).await;
    let start = day(30);
    let written = readings(&hosts, Measurement::Cpu, start, 10, 3 * 360);
    write(store, &written).await;
    let span = Duration::hours(3);

    check_tiled_queries(store, &hosts, &written, start, span, "before any refresh").await;
    let report = store
        .refresh_rollups(start + Duration::minutes(95))
        .await
        .unwrap();
    assert!(report.rows > 0, "the refresh wrote rollup rows: {report:?}");
    check_tiled_queries(store, &hosts, &written, start, span, "watermark at 01:35").await;
    store.refresh_rollups(start + span).await.unwrap();
    check_tiled_queries(store, &hosts, &written, start, span, "fully rolled up").await;

    for before in [
        start + Duration::minutes(120),
        start + Duration::minutes(180),
    ] {
        let latest = LatestBucketsSpec::new(
            Metric::CpuUsageUser,
            before,
            BucketWidth::parse("1m").unwrap(),
            Aggregate::Avg,
            7,
        )
        .unwrap();
        let actual = store.latest_buckets(&latest).await.unwrap();
        assert_same_buckets(
            &actual,
            &reference::latest(&latest, &written),
            "from rollups",
        );
    }
}

pub async fn late_readings_behind_the_watermark_update_the_rollups(store: &dyn TelemetryStore) {
    let hosts = register(store, "late", 2).await;
    let start = day(31);
    let all = readings(&hosts, Measurement::Cpu, start, 10, 2 * 360);
    let (late, on_time): (Vec<RawReading>, Vec<RawReading>) = all.iter().cloned().partition(|r| {
        let minute = (r.row.time - start).num_minutes();
        (30..40).contains(&minute)
    });
    write(store, &on_time).await;
    store
        .refresh_rollups(start + Duration::hours(2))
        .await
        .unwrap();
    check_tiled_queries(
        store,
        &hosts,
        &on_time,
        start,
        Duration::hours(2),
        "before late rows",
    )
    .await;

    write(store, &late).await;
    check_tiled_queries(
        store,
        &hosts,
        &all,
        start,
        Duration::hours(2),
        "after late rows",
    )
    .await;
}

pub async fn retention_drops_expired_readings_and_keeps_the_rollups(store: &dyn TelemetryStore) {
    let hosts = register(store, "retain", 2).await;
    let mut written = readings(&hosts, Measurement::Cpu, day(40), 10, 720);
    let newer = readings(&hosts, Measurement::Cpu, day(41), 10, 720);
    written.extend(newer.iter().cloned());
    write(store, &written).await;
    store.refresh_rollups(day(42)).await.unwrap();

    let report = store
        .apply_retention(&RetentionCutoffs {
            raw_before: day(41),
            minute_rollup_before: day(40),
            hour_rollup_before: day(39),
        })
        .await
        .unwrap();
    assert!(
        report.chunks_dropped + report.rows_deleted > 0,
        "retention dropped something: {report:?}"
    );

    // Raw readings (10 s buckets cannot come from a rollup) are gone before the cutoff…
    let old_raw = spec(&hosts, day(40), Duration::hours(2), "10s", Aggregate::Max);
    assert!(
        store.series(&old_raw).await.unwrap().is_empty(),
        "expired raw readings"
    );
    // …and kept after it.
    let new_raw = spec(&hosts, day(41), Duration::hours(2), "10s", Aggregate::Max);
    assert_same_rows(
        &store.series(&new_raw).await.unwrap(),
        &reference::series(&new_raw, &newer),
        "raw readings after the cutoff",
    );
    // The rollups still answer for the expired day, as they did from raw readings.
    check_tiled_queries(
        store,
        &hosts,
        &written,
        day(40),
        Duration::hours(2),
        "after retention",
    )
    .await;
}
