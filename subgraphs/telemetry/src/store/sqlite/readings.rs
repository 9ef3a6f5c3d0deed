//! Readings on SQLite: the ingest of a batch and the TSBS query types, from the named query
//! files in `sql/telemetry/sqlite/queries/`. Times are Unix milliseconds.

use sqlx::Row;

use super::{SqliteStore, from_ms, json_array, ms, rollups};
use crate::domain::{
    AboveSpec, BucketValue, HostSelection, IngestReport, LastReading, LatestBucketsSpec,
    MAX_POINTS, Measurement, ReadingAbove, ReadingBatch, SeriesRow, SeriesSpec,
};
use crate::store::rows::host_id;
use crate::store::sql::{self, render};
use crate::store::{ROLLUP_WIDTHS, Rollup, StoreError, corrupt, from_sqlx};

macro_rules! query_file {
    ($name:literal) => {
        include_str!(concat!(
            "../../../../../sql/telemetry/sqlite/queries/",
            $name
        ))
    };
}

const INGEST: &str = query_file!("ingest.sql");
/// Rows per INSERT statement: 500 × (2 + 10) parameters stays well under SQLite's 32 766.
const ROWS_PER_STATEMENT: usize = 500;
const UNKNOWN_HOSTS: &str = query_file!("unknown_hosts.sql");
const SERIES_RAW: &str = query_file!("series_raw.sql");
const SERIES_ROLLUP: &str = query_file!("series_rollup.sql");
const READINGS_ABOVE: &str = query_file!("readings_above.sql");
const LATEST_RAW: &str = query_file!("latest_buckets_raw.sql");
const LATEST_ROLLUP: &str = query_file!("latest_buckets_rollup.sql");
const LAST_READING: &str = query_file!("last_reading.sql");

/// `host_id IN (…)` for a selection: every registered host, or the JSON list in `?4`.
fn hosts_filter(hosts: &HostSelection) -> &'static str {
    match hosts {
        HostSelection::All => "host_id IN (SELECT id FROM hosts)",
        HostSelection::Only(_) => "host_id IN (SELECT value FROM json_each(?4))",
    }
}

/// The selection as the `?4` parameter.
fn hosts_param(hosts: &HostSelection) -> Result<Option<String>, StoreError> {
    hosts
        .ids()
        .map(|ids| json_array(ids.iter().map(|i| i.get())))
        .transpose()
}

pub(super) async fn ingest(
    store: &SqliteStore,
    batch: &ReadingBatch,
) -> Result<IngestReport, StoreError> {
    let mut tx = store.write().await?;
    let hosts = batch.hosts();
    let unknown: Vec<i64> = sqlx::query_scalar(UNKNOWN_HOSTS)
        .bind(json_array(hosts.iter().map(|h| h.get()))?)
        .fetch_all(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    if !unknown.is_empty() {
        let unknown = unknown.into_iter().map(host_id).collect::<Result<_, _>>()?;
        return Err(StoreError::UnknownHosts(unknown));
    }
    let mut report = IngestReport::default();
    for part in batch.parts() {
        let measurement = part.measurement;
        let columns = sql::columns(measurement);
        let width = measurement.columns().len() + 2;
        let mut inserted = 0;
        for chunk in part.rows.chunks(ROWS_PER_STATEMENT) {
            let placeholder = format!("({})", vec!["?"; width].join(", "));
            let rows = vec![placeholder; chunk.len()].join(", ");
            let sql = render(
                INGEST,
                &[
                    ("table", measurement.table()),
                    ("columns", columns.as_str()),
                    ("rows", rows.as_str()),
                ],
            );
            let mut query = sqlx::query(&sql);
            for row in chunk {
                query = query.bind(row.host.get()).bind(ms(row.time));
                for value in &row.values {
                    query = query.bind(*value);
                }
            }
            inserted += query
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?
                .rows_affected();
        }
        report.inserted += inserted;
        report.duplicates += part.rows.len() as u64 - inserted;
        let first = part.rows.iter().map(|r| r.time).min();
        let last = part.rows.iter().map(|r| r.time).max();
        if let (Some(first), Some(last)) = (first, last) {
            let mut part_hosts: Vec<_> = part.rows.iter().map(|r| r.host).collect();
            part_hosts.sort();
            part_hosts.dedup();
            rollups::recompute_late(&mut tx, measurement, &part_hosts, first, last).await?;
        }
    }
    tx.commit().await.map_err(from_sqlx)?;
    Ok(report)
}

pub(super) async fn series(
    store: &SqliteStore,
    spec: &SeriesSpec,
) -> Result<Vec<SeriesRow>, StoreError> {
    let host = if spec.per_host { "host_id" } else { "NULL" };
    let hosts = hosts_filter(&spec.hosts);
    let table = spec.measurement.table();
    let sql = match spec.rollup(&ROLLUP_WIDTHS).and_then(Rollup::by_width) {
        Some(rollup) => render(
            SERIES_ROLLUP,
            &[
                ("rollup", rollup.table(spec.measurement).as_str()),
                ("table", table),
                ("host", host),
                ("hosts", hosts),
                (
                    "combine",
                    sql::combine(&spec.metrics, spec.aggregate).as_str(),
                ),
                (
                    "rollup_partials",
                    sql::rollup_partials(&spec.metrics).as_str(),
                ),
                ("raw_partials", sql::raw_partials(&spec.metrics).as_str()),
            ],
        ),
        None => render(
            SERIES_RAW,
            &[
                ("table", table),
                ("host", host),
                ("hosts", hosts),
                (
                    "aggregates",
                    sql::aggregates(&spec.metrics, spec.aggregate).as_str(),
                ),
            ],
        ),
    };
    let rows = sqlx::query(&sql)
        .bind(ms(spec.window.from))
        .bind(ms(spec.window.to))
        .bind(spec.bucket.secs() * 1000)
        .bind(hosts_param(&spec.hosts)?)
        .bind(MAX_POINTS as i64 + 1)
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    if rows.len() > MAX_POINTS {
        return Err(StoreError::TooLarge(MAX_POINTS));
    }
    rows.iter()
        .map(|row| {
            let bucket: i64 = row.try_get(0).map_err(from_sqlx)?;
            let host: Option<i64> = row.try_get(1).map_err(from_sqlx)?;
            let values = (0..spec.metrics.len())
                .map(|i| row.try_get::<Option<f64>, _>(i + 2).map_err(from_sqlx))
                .collect::<Result<_, _>>()?;
            Ok(SeriesRow {
                bucket: from_ms(bucket)?,
                host: host.map(host_id).transpose()?,
                values,
            })
        })
        .collect()
}

pub(super) async fn readings_above(
    store: &SqliteStore,
    spec: &AboveSpec,
) -> Result<Vec<ReadingAbove>, StoreError> {
    let sql = render(
        READINGS_ABOVE,
        &[
            ("table", spec.metric.measurement().table()),
            ("column", spec.metric.column()),
            ("hosts", hosts_filter(&spec.hosts)),
        ],
    );
    let rows = sqlx::query(&sql)
        .bind(ms(spec.window.from))
        .bind(ms(spec.window.to))
        .bind(spec.threshold)
        .bind(hosts_param(&spec.hosts)?)
        .bind(i64::from(spec.limit))
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    rows.iter()
        .map(|row| {
            Ok(ReadingAbove {
                host: host_id(row.try_get(0).map_err(from_sqlx)?)?,
                time: from_ms(row.try_get(1).map_err(from_sqlx)?)?,
                value: row.try_get(2).map_err(from_sqlx)?,
            })
        })
        .collect()
}

pub(super) async fn latest_buckets(
    store: &SqliteStore,
    spec: &LatestBucketsSpec,
) -> Result<Vec<BucketValue>, StoreError> {
    let metrics = [spec.metric];
    let table = spec.metric.measurement().table();
    let sql = match spec.rollup(&ROLLUP_WIDTHS).and_then(Rollup::by_width) {
        Some(rollup) => render(
            LATEST_ROLLUP,
            &[
                ("rollup", rollup.table(spec.metric.measurement()).as_str()),
                ("table", table),
                ("combine", sql::combine(&metrics, spec.aggregate).as_str()),
                ("rollup_partials", sql::rollup_partials(&metrics).as_str()),
                ("raw_rows", sql::raw_rows(&metrics).as_str()),
            ],
        ),
        None => render(
            LATEST_RAW,
            &[
                ("table", table),
                (
                    "aggregate",
                    sql::aggregates(&metrics, spec.aggregate).as_str(),
                ),
            ],
        ),
    };
    let rows = sqlx::query(&sql)
        .bind(ms(spec.before))
        .bind(spec.bucket.secs() * 1000)
        .bind(i64::from(spec.limit))
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    rows.iter()
        .map(|row| {
            Ok(BucketValue {
                bucket: from_ms(row.try_get(0).map_err(from_sqlx)?)?,
                value: row.try_get(1).map_err(from_sqlx)?,
            })
        })
        .collect()
}

pub(super) async fn last_readings(
    store: &SqliteStore,
    hosts: &HostSelection,
) -> Result<Vec<LastReading>, StoreError> {
    let sql = Measurement::ALL
        .iter()
        .map(|m| {
            render(
                LAST_READING,
                &[("table", m.table()), ("columns", sql::columns(*m).as_str())],
            )
        })
        .collect::<Vec<_>>()
        .join("\nUNION ALL\n");
    let param = hosts
        .ids()
        .map(|ids| json_array(ids.iter().map(|i| i.get())))
        .transpose()?;
    let rows = sqlx::query(&sql)
        .bind(param)
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    rows.iter()
        .map(|row| {
            let table: &str = row.try_get(1).map_err(from_sqlx)?;
            let measurement = Measurement::ALL
                .iter()
                .copied()
                .find(|m| m.table() == table)
                .ok_or_else(|| corrupt(format!("measurement {table}")))?;
            let values: &str = row.try_get(3).map_err(from_sqlx)?;
            Ok(LastReading {
                host: host_id(row.try_get(0).map_err(from_sqlx)?)?,
                measurement,
                time: from_ms(row.try_get(2).map_err(from_sqlx)?)?,
                values: serde_json::from_str(values).map_err(corrupt)?,
            })
        })
        .collect()
}
