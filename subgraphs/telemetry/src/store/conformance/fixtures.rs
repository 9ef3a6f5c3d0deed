//! Hosts, readings and days the checks write, all unique to the check that asks.

use chrono::{DateTime, Duration, TimeZone, Utc};
use polygate_kit::testing::unique_name;

use crate::domain::{
    Host, HostTags, Hostname, Measurement, NewHost, RawReading, RawTags, ReadingBatch, Row, Team,
};
use crate::store::TelemetryStore;

/// The day a check writes on: each check has its own, so checks sharing a database never see
/// each other's readings in a query over all hosts.
pub fn day(n: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + Duration::days(n)
}

/// A team slug no other check uses.
pub fn unique_team(tag: &str) -> Team {
    Team::parse(&unique_name(tag).replace('_', "-")).expect("valid team")
}

/// A host to register, with a hostname no other check uses.
pub fn new_host(tag: &str, team: &Team, region: &str) -> NewHost {
    NewHost {
        hostname: Hostname::parse(&unique_name(tag)).expect("valid hostname"),
        tags: HostTags::parse(&RawTags {
            region,
            datacenter: "eu-central-1a",
            rack: "7",
            os: "Ubuntu16.04LTS",
            arch: "x64",
            team: team.as_str(),
            service: "11",
            service_version: "0",
            environment: "production",
        })
        .expect("valid tags"),
    }
}

/// `count` new hosts of a new team.
pub async fn register(store: &dyn TelemetryStore, tag: &str, count: usize) -> Vec<Host> {
    let team = unique_team(tag);
    let new: Vec<NewHost> = (0..count)
        .map(|_| new_host(tag, &team, "eu-central-1"))
        .collect();
    store.upsert_hosts(&new).await.expect("upsert_hosts")
}

/// A value that differs by host, time step and column, and repeats nothing within a bucket.
pub fn value(host: &Host, step: i64, column: usize) -> f64 {
    f64::from(host.id.get() % 97) * 10.0 + (step % 113) as f64 * 0.25 + column as f64 * 0.5
}

/// Readings of `measurement` for every host, every `every` seconds from `from`, `count` times.
pub fn readings(
    hosts: &[Host],
    measurement: Measurement,
    from: DateTime<Utc>,
    every: i64,
    count: i64,
) -> Vec<RawReading> {
    let width = measurement.columns().len();
    let mut out = Vec::new();
    for step in 0..count {
        for host in hosts {
            out.push(RawReading {
                measurement,
                row: Row {
                    host: host.id,
                    time: from + Duration::seconds(every * step),
                    values: (0..width).map(|c| value(host, step, c)).collect(),
                },
            });
        }
    }
    out
}

/// Writes `readings` (already well formed) in batches of the bulk size.
pub async fn write(store: &dyn TelemetryStore, readings: &[RawReading]) {
    for chunk in readings.chunks(crate::domain::MAX_BULK_ROWS) {
        store
            .ingest(&ReadingBatch::group(chunk.to_vec()))
            .await
            .expect("ingest");
    }
}

/// Asserts two optional values agree to 1e-9, relative (rollups add in another order).
pub fn assert_close(actual: Option<f64>, expected: Option<f64>, what: &str) {
    match (actual, expected) {
        (Some(a), Some(e)) => {
            let tolerance = 1e-9 * e.abs().max(1.0);
            assert!((a - e).abs() <= tolerance, "{what}: {a} != {e}");
        }
        (a, e) => assert_eq!(a, e, "{what}"),
    }
}
