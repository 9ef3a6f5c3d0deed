//! Writing readings, and the newest reading of each host.

use chrono::Duration;

use super::fixtures::{day, readings, register, write};
use crate::domain::{
    Aggregate, BucketWidth, Fill, HostId, HostSelection, Measurement, Metric, ReadingBatch,
    SeriesSpec, TimeWindow,
};
use crate::store::{StoreError, TelemetryStore};

/// How many cpu readings the store holds for `hosts` on `day(n)`.
async fn count_cpu(store: &dyn TelemetryStore, hosts: Vec<HostId>, n: i64) -> f64 {
    let spec = SeriesSpec::new(
        vec![Metric::CpuUsageUser],
        HostSelection::only(hosts, "hosts").unwrap(),
        TimeWindow::new(day(n), day(n + 1)).unwrap(),
        BucketWidth::parse("1d").unwrap(),
        Aggregate::Count,
        false,
        Fill::None,
    )
    .unwrap();
    let rows = store.series(&spec).await.unwrap();
    rows.first().and_then(|r| r.values[0]).unwrap_or(0.0)
}

pub async fn a_retried_batch_writes_nothing_twice_and_counts_duplicates(
    store: &dyn TelemetryStore,
) {
    let hosts = register(store, "retry", 2).await;
    let mut rows = readings(&hosts, Measurement::Cpu, day(10), 10, 30);
    rows.extend(readings(&hosts, Measurement::Mem, day(10), 10, 30));
    let batch = ReadingBatch::group(rows);

    let first = store.ingest(&batch).await.unwrap();
    assert_eq!((first.inserted, first.duplicates), (120, 0));
    let again = store.ingest(&batch).await.unwrap();
    assert_eq!(
        (again.inserted, again.duplicates),
        (0, 120),
        "a retry writes nothing"
    );

    // A batch overlapping the stored rows writes only the new ones.
    let overlap = ReadingBatch::group(readings(
        &hosts,
        Measurement::Cpu,
        day(10) + Duration::seconds(290),
        10,
        3,
    ));
    let report = store.ingest(&overlap).await.unwrap();
    assert_eq!((report.inserted, report.duplicates), (4, 2));
    let ids = hosts.iter().map(|h| h.id).collect();
    assert_eq!(count_cpu(store, ids, 10).await, 64.0);
}

pub async fn a_batch_naming_an_unknown_host_writes_nothing(store: &dyn TelemetryStore) {
    let hosts = register(store, "unknown", 1).await;
    let mut rows = readings(&hosts, Measurement::Cpu, day(11), 10, 5);
    let mut stranger = rows[0].clone();
    let unknown = HostId::new(i32::MAX - 1).unwrap();
    stranger.row.host = unknown;
    rows.push(stranger);

    let err = store.ingest(&ReadingBatch::group(rows)).await.unwrap_err();
    assert_eq!(err, StoreError::UnknownHosts(vec![unknown]));
    assert_eq!(
        count_cpu(store, vec![hosts[0].id], 11).await,
        0.0,
        "the good rows of the refused batch were not written"
    );
}

pub async fn last_readings_are_the_newest_row_of_each_host_and_measurement(
    store: &dyn TelemetryStore,
) {
    let hosts = register(store, "last", 3).await;
    let mut rows = readings(&hosts[..2], Measurement::Cpu, day(12), 10, 20);
    rows.extend(readings(&hosts[..1], Measurement::Net, day(12), 60, 5));
    write(store, &rows).await;

    let selection = HostSelection::only(hosts.iter().map(|h| h.id).collect(), "hosts").unwrap();
    let mut last = store.last_readings(&selection).await.unwrap();
    last.sort_by_key(|l| (l.host, l.measurement));
    let summary: Vec<_> = last
        .iter()
        .map(|l| (l.host, l.measurement, l.time))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                hosts[0].id,
                Measurement::Cpu,
                day(12) + Duration::seconds(190)
            ),
            (
                hosts[0].id,
                Measurement::Net,
                day(12) + Duration::seconds(240)
            ),
            (
                hosts[1].id,
                Measurement::Cpu,
                day(12) + Duration::seconds(190)
            ),
        ],
        "the host without readings has none"
    );
    let newest = rows
        .iter()
        .rev()
        .find(|r| r.measurement == Measurement::Cpu && r.row.host == hosts[1].id)
        .unwrap();
    assert_eq!(last[2].values, newest.row.values);
}

pub async fn ping_succeeds(store: &dyn TelemetryStore) {
    store.ping().await.expect("ping");
    assert!(!store.engine().is_empty());
    let stats = store.table_stats().await.expect("table_stats");
    assert_eq!(stats.len(), Measurement::ALL.len());
}
