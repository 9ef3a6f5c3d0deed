//! The TSBS query types on PostgreSQL and TimescaleDB, rendered from the named query files in
//! `sql/telemetry/postgres/queries/`. The renderers are public so the benchmark runs exactly
//! this SQL with `pgbench` (`polygate-telemetry sql`).

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::PostgresStore;
use super::edition::Dialect;
use crate::domain::{
    AboveSpec, BucketValue, HostSelection, LastReading, LatestBucketsSpec, MAX_POINTS, Measurement,
    ReadingAbove, SeriesRow, SeriesSpec,
};
use crate::store::rows::host_id;
use crate::store::sql::{self, render};
use crate::store::{ROLLUP_WIDTHS, Rollup, StoreError, corrupt, from_sqlx};

macro_rules! query_file {
    ($name:literal) => {
        include_str!(concat!(
            "../../../../../sql/telemetry/postgres/queries/",
            $name
        ))
    };
}

const SERIES_RAW: &str = query_file!("series_raw.sql");
const SERIES_ROLLUP: &str = query_file!("series_rollup.sql");
const READINGS_ABOVE: &str = query_file!("readings_above.sql");
const LATEST_RAW: &str = query_file!("latest_buckets_raw.sql");
const LATEST_ROLLUP: &str = query_file!("latest_buckets_rollup.sql");
const LAST_READING: &str = query_file!("last_reading.sql");

/// `AND host_id = ANY($4)` for some hosts; nothing for all.
fn hosts_filter(hosts: &HostSelection) -> &'static str {
    match hosts {
        HostSelection::All => "",
        HostSelection::Only(_) => "AND host_id = ANY($4)",
    }
}

/// The selection as the `$4` parameter (empty for all hosts, where the SQL does not read it).
fn hosts_param(hosts: &HostSelection) -> Vec<i32> {
    hosts
        .ids()
        .map(|ids| ids.iter().map(|i| i.get()).collect())
        .unwrap_or_default()
}

/// The SQL of a series query: `$1` from, `$2` to, `$3` bucket seconds, `$4` hosts, `$5` limit.
pub fn series_sql(dialect: Dialect, spec: &SeriesSpec) -> String {
    let host = if spec.per_host {
        "host_id"
    } else {
        "NULL::integer"
    };
    let hosts = hosts_filter(&spec.hosts);
    let table = spec.measurement.table();
    match spec.rollup(&ROLLUP_WIDTHS).and_then(Rollup::by_width) {
        Some(rollup) => {
            let rollup_table = rollup.table(spec.measurement);
            render(
                SERIES_ROLLUP,
                &[
                    ("mark", dialect.mark(&rollup_table).as_str()),
                    ("rollup", rollup_table.as_str()),
                    ("table", table),
                    ("host", host),
                    ("hosts", hosts),
                    ("bucket", dialect.bucket("time", 3).as_str()),
                    ("rollup_bucket", dialect.bucket("bucket", 3).as_str()),
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
            )
        }
        None => render(
            SERIES_RAW,
            &[
                ("table", table),
                ("host", host),
                ("hosts", hosts),
                ("bucket", dialect.bucket("time", 3).as_str()),
                (
                    "aggregates",
                    sql::aggregates(&spec.metrics, spec.aggregate).as_str(),
                ),
            ],
        ),
    }
}

/// The SQL of a high-cpu query: `$1` from, `$2` to, `$3` threshold, `$4` hosts, `$5` limit.
pub fn above_sql(spec: &AboveSpec) -> String {
    render(
        READINGS_ABOVE,
        &[
            ("table", spec.metric.measurement().table()),
            ("column", spec.metric.column()),
            ("hosts", hosts_filter(&spec.hosts)),
        ],
    )
}

/// The SQL of groupby-orderby-limit: `$1` before, `$2` bucket seconds, `$3` limit.
pub fn latest_sql(dialect: Dialect, spec: &LatestBucketsSpec) -> String {
    let metrics = [spec.metric];
    let measurement = spec.metric.measurement();
    match spec.rollup(&ROLLUP_WIDTHS).and_then(Rollup::by_width) {
        Some(rollup) => {
            let rollup_table = rollup.table(measurement);
            render(
                LATEST_ROLLUP,
                &[
                    ("mark", dialect.mark(&rollup_table).as_str()),
                    ("rollup", rollup_table.as_str()),
                    ("table", measurement.table()),
                    ("rollup_bucket", dialect.bucket("bucket", 2).as_str()),
                    ("combine", sql::combine(&metrics, spec.aggregate).as_str()),
                    ("rollup_partials", sql::rollup_partials(&metrics).as_str()),
                    ("raw_rows", sql::raw_rows(&metrics).as_str()),
                ],
            )
        }
        None => render(
            LATEST_RAW,
            &[
                ("table", measurement.table()),
                ("bucket", dialect.bucket("time", 2).as_str()),
                (
                    "aggregate",
                    sql::aggregates(&metrics, spec.aggregate).as_str(),
                ),
            ],
        ),
    }
}

/// The SQL of lastpoint over every measurement: `$1` hosts (NULL for all).
pub fn last_readings_sql() -> String {
    Measurement::ALL
        .iter()
        .map(|m| {
            render(
                LAST_READING,
                &[("table", m.table()), ("columns", sql::columns(*m).as_str())],
            )
        })
        .collect::<Vec<_>>()
        .join("\nUNION ALL\n")
}

pub(super) async fn series(
    store: &PostgresStore,
    spec: &SeriesSpec,
) -> Result<Vec<SeriesRow>, StoreError> {
    let sql = series_sql(store.dialect(), spec);
    let rows = sqlx::query(&sql)
        .bind(spec.window.from)
        .bind(spec.window.to)
        .bind(spec.bucket.secs() as f64)
        .bind(hosts_param(&spec.hosts))
        .bind(MAX_POINTS as i64 + 1)
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    if rows.len() > MAX_POINTS {
        return Err(StoreError::TooLarge(MAX_POINTS));
    }
    rows.iter()
        .map(|row| {
            let host: Option<i32> = row.try_get(1).map_err(from_sqlx)?;
            let values = (0..spec.metrics.len())
                .map(|i| row.try_get::<Option<f64>, _>(i + 2).map_err(from_sqlx))
                .collect::<Result<_, _>>()?;
            Ok(SeriesRow {
                bucket: row.try_get(0).map_err(from_sqlx)?,
                host: host.map(|h| host_id(i64::from(h))).transpose()?,
                values,
            })
        })
        .collect()
}

pub(super) async fn readings_above(
    store: &PostgresStore,
    spec: &AboveSpec,
) -> Result<Vec<ReadingAbove>, StoreError> {
    let rows = sqlx::query(&above_sql(spec))
        .bind(spec.window.from)
        .bind(spec.window.to)
        .bind(spec.threshold)
        .bind(hosts_param(&spec.hosts))
        .bind(i64::from(spec.limit))
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    rows.iter()
        .map(|row| {
            let host: i32 = row.try_get(0).map_err(from_sqlx)?;
            Ok(ReadingAbove {
                host: host_id(i64::from(host))?,
                time: row.try_get(1).map_err(from_sqlx)?,
                value: row.try_get(2).map_err(from_sqlx)?,
            })
        })
        .collect()
}

pub(super) async fn latest_buckets(
    store: &PostgresStore,
    spec: &LatestBucketsSpec,
) -> Result<Vec<BucketValue>, StoreError> {
    let rows = sqlx::query(&latest_sql(store.dialect(), spec))
        .bind(spec.before)
        .bind(spec.bucket.secs() as f64)
        .bind(i64::from(spec.limit))
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    rows.iter()
        .map(|row| {
            Ok(BucketValue {
                bucket: row.try_get::<DateTime<Utc>, _>(0).map_err(from_sqlx)?,
                value: row.try_get(1).map_err(from_sqlx)?,
            })
        })
        .collect()
}

pub(super) async fn last_readings(
    store: &PostgresStore,
    hosts: &HostSelection,
) -> Result<Vec<LastReading>, StoreError> {
    let param: Option<Vec<i32>> = hosts.ids().map(|ids| ids.iter().map(|i| i.get()).collect());
    let rows = sqlx::query(&last_readings_sql())
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
            let host: i32 = row.try_get(0).map_err(from_sqlx)?;
            Ok(LastReading {
                host: host_id(i64::from(host))?,
                measurement,
                time: row.try_get(2).map_err(from_sqlx)?,
                values: row.try_get(3).map_err(from_sqlx)?,
            })
        })
        .collect()
}
