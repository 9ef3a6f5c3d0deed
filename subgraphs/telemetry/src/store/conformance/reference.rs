//! The answers a store must give, computed in memory from the rows written.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::fixtures::assert_close;
use crate::domain::{
    Aggregate, BucketValue, HostId, LatestBucketsSpec, RawReading, SeriesRow, SeriesSpec,
};

fn fold(values: &[f64], aggregate: Aggregate) -> f64 {
    match aggregate {
        Aggregate::Avg => values.iter().sum::<f64>() / values.len() as f64,
        Aggregate::Max => values.iter().copied().fold(f64::MIN, f64::max),
        Aggregate::Min => values.iter().copied().fold(f64::MAX, f64::min),
        Aggregate::Sum => values.iter().sum(),
        Aggregate::Count => values.len() as f64,
    }
}

/// The series rows `spec` must return over `written`.
pub fn series(spec: &SeriesSpec, written: &[RawReading]) -> Vec<SeriesRow> {
    let mut groups: BTreeMap<(Option<HostId>, DateTime<Utc>), Vec<&RawReading>> = BTreeMap::new();
    for r in written {
        let selected = spec.hosts.ids().is_none_or(|ids| ids.contains(&r.row.host));
        let inside = r.row.time >= spec.window.from && r.row.time < spec.window.to;
        if r.measurement == spec.measurement && selected && inside {
            let host = spec.per_host.then_some(r.row.host);
            groups
                .entry((host, spec.bucket.floor(r.row.time)))
                .or_default()
                .push(r);
        }
    }
    groups
        .into_iter()
        .map(|((host, bucket), rows)| SeriesRow {
            bucket,
            host,
            values: spec
                .metrics
                .iter()
                .map(|m| {
                    let v: Vec<f64> = rows.iter().map(|r| r.row.values[m.index()]).collect();
                    Some(fold(&v, spec.aggregate))
                })
                .collect(),
        })
        .collect()
}

/// The buckets `spec` must return over `written`.
pub fn latest(spec: &LatestBucketsSpec, written: &[RawReading]) -> Vec<BucketValue> {
    let mut groups: BTreeMap<DateTime<Utc>, Vec<f64>> = BTreeMap::new();
    for r in written {
        if r.measurement == spec.metric.measurement() && r.row.time < spec.before {
            groups
                .entry(spec.bucket.floor(r.row.time))
                .or_default()
                .push(r.row.values[spec.metric.index()]);
        }
    }
    groups
        .into_iter()
        .rev()
        .take(spec.limit as usize)
        .map(|(bucket, v)| BucketValue {
            bucket,
            value: Some(fold(&v, spec.aggregate)),
        })
        .collect()
}

/// Asserts a store's series rows equal the expected ones, values to 1e-9.
pub fn assert_same_rows(actual: &[SeriesRow], expected: &[SeriesRow], what: &str) {
    assert_eq!(
        actual.len(),
        expected.len(),
        "{what}: {} rows, expected {}",
        actual.len(),
        expected.len()
    );
    for (a, e) in actual.iter().zip(expected) {
        assert_eq!((a.host, a.bucket), (e.host, e.bucket), "{what}");
        assert_eq!(a.values.len(), e.values.len(), "{what}");
        for (i, (av, ev)) in a.values.iter().zip(&e.values).enumerate() {
            assert_close(*av, *ev, &format!("{what}: {} metric {i}", a.bucket));
        }
    }
}

/// Asserts a store's buckets equal the expected ones, values to 1e-9.
pub fn assert_same_buckets(actual: &[BucketValue], expected: &[BucketValue], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: {actual:?}");
    for (a, e) in actual.iter().zip(expected) {
        assert_eq!(a.bucket, e.bucket, "{what}");
        assert_close(a.value, e.value, &format!("{what}: {}", a.bucket));
    }
}
