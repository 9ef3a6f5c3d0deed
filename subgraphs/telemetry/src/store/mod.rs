//! The telemetry store port and what its adapters share: the error type, the rollups, the
//! timeout and metrics wrapper every call goes through, and the mapping from `sqlx` errors.
//!
//! Non-obvious: rollups are part of the port's contract, not an optimisation hidden in one
//! adapter. Every adapter keeps 1-minute and 1-hour rollups (sum, count, min and max per column,
//! so any [`Aggregate`](crate::domain::Aggregate) combines exactly) and answers a series from
//! them when their buckets tile the query's; the conformance suite checks that a query answers
//! the same before and after a refresh, and after raw retention dropped the readings under it.

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use polygate_kit::metrics::StoreCallTimer;

use crate::domain::{
    AboveSpec, BucketValue, Host, HostFilter, HostId, HostSelection, Hostname, IngestReport,
    LastReading, LatestBucketsSpec, Measurement, NewHost, ReadingAbove, ReadingBatch, SeriesRow,
    SeriesSpec, Team,
};

pub mod conformance;
pub mod postgres;
mod rows;
pub mod sql;
pub mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Longest a single store call may take before it counts as `Unavailable`.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest a maintenance call (a rollup refresh over a backlog, retention) may take.
pub const MAINTENANCE_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The batch names hosts that are not registered; nothing was written.
    #[error("unknown hosts: {0:?}")]
    UnknownHosts(Vec<HostId>),
    /// A query would return more than it may; nothing is returned.
    #[error("the answer would exceed {0} points")]
    TooLarge(usize),
    /// The store could not be reached or did not answer in time.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a failed statement or a row that does not decode.
    #[error("store error: {0}")]
    Other(String),
}

/// A rollup: readings combined per host into buckets of a fixed width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rollup {
    /// Table suffix: `cpu_1m`, `cpu_1h`.
    pub suffix: &'static str,
    pub width_secs: i64,
}

/// The rollups every adapter keeps, finest first.
pub const ROLLUPS: [Rollup; 2] = [
    Rollup {
        suffix: "1m",
        width_secs: 60,
    },
    Rollup {
        suffix: "1h",
        width_secs: 3_600,
    },
];

/// The rollup widths, for [`SeriesSpec::rollup`].
pub const ROLLUP_WIDTHS: [i64; 2] = [60, 3_600];

impl Rollup {
    pub fn table(self, measurement: Measurement) -> String {
        format!("{}_{}", measurement.table(), self.suffix)
    }

    pub fn by_width(width_secs: i64) -> Option<Rollup> {
        ROLLUPS.into_iter().find(|r| r.width_secs == width_secs)
    }
}

/// Where each kind of data ends: everything older is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionCutoffs {
    pub raw_before: DateTime<Utc>,
    pub minute_rollup_before: DateTime<Utc>,
    pub hour_rollup_before: DateTime<Utc>,
}

/// What a retention run dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Chunks or partitions dropped whole (0 on SQLite, which deletes rows).
    pub chunks_dropped: u64,
    /// Rows deleted one by one (rollups everywhere; raw readings on SQLite).
    pub rows_deleted: u64,
}

/// What a rollup refresh did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshReport {
    /// Rollup rows written.
    pub rows: u64,
    /// The oldest watermark after the refresh: rollups are complete before it.
    pub watermark: Option<DateTime<Utc>>,
}

/// How a table is stored, for `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStats {
    pub table: String,
    /// Chunks (TimescaleDB), partitions (PostgreSQL) or 1 (SQLite).
    pub chunks: u64,
}

/// Which engine answers, detected when the store opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum Edition {
    /// The embedded store.
    Sqlite,
    /// PostgreSQL without TimescaleDB: range partitions and our own rollup job.
    Postgres,
    /// TimescaleDB, Apache-2 edition: hypertables and `time_bucket`; our own rollup job.
    TimescaleApache,
    /// TimescaleDB with the Timescale License: continuous aggregates, compression and policies.
    TimescaleLicensed,
}

/// Everything the telemetry subgraph reads and writes: the host registry, readings, the
/// rollups, and the retention that bounds them.
#[async_trait]
pub trait TelemetryStore: Send + Sync {
    // ---- hosts -------------------------------------------------------------------------------
    /// Registers hosts by hostname, updating the tags of those that exist; returns them all.
    async fn upsert_hosts(&self, hosts: &[NewHost]) -> Result<Vec<Host>, StoreError>;
    /// The hosts among `ids` that exist, in any order, in one query.
    async fn hosts_by_ids(&self, ids: &[HostId]) -> Result<Vec<Host>, StoreError>;
    /// The hosts among `hostnames` that exist, in any order, in one query.
    async fn hosts_by_hostnames(&self, hostnames: &[Hostname]) -> Result<Vec<Host>, StoreError>;
    /// Every host of any of `teams`, in id order, in one query.
    async fn hosts_by_teams(&self, teams: &[Team]) -> Result<Vec<Host>, StoreError>;
    /// Up to `first` hosts matching `filter` with ids above `after`, in id order.
    async fn list_hosts(
        &self,
        filter: &HostFilter,
        first: u32,
        after: Option<HostId>,
    ) -> Result<Vec<Host>, StoreError>;

    // ---- readings ----------------------------------------------------------------------------
    /// Writes a validated batch, all or nothing: `UnknownHosts` (and nothing written) when it
    /// names hosts that are not registered. Rows whose `(host, time)` is stored already are left
    /// as they are (a retried batch writes nothing twice). Rollups already refreshed past a
    /// row's time are brought up to date in the same transaction.
    async fn ingest(&self, batch: &ReadingBatch) -> Result<IngestReport, StoreError>;
    /// The newest reading of each selected host in each measurement (TSBS lastpoint), in one
    /// query.
    async fn last_readings(&self, hosts: &HostSelection) -> Result<Vec<LastReading>, StoreError>;
    /// Bucketed aggregates, sorted by host (when per host) and bucket, buckets with readings
    /// only; `TooLarge` beyond [`MAX_POINTS`](crate::domain::MAX_POINTS) rows.
    async fn series(&self, spec: &SeriesSpec) -> Result<Vec<SeriesRow>, StoreError>;
    /// Readings of a metric above a threshold, by time then host, at most `spec.limit`.
    async fn readings_above(&self, spec: &AboveSpec) -> Result<Vec<ReadingAbove>, StoreError>;
    /// The newest `spec.limit` buckets before `spec.before` over all hosts, newest first.
    async fn latest_buckets(
        &self,
        spec: &LatestBucketsSpec,
    ) -> Result<Vec<BucketValue>, StoreError>;

    // ---- operations --------------------------------------------------------------------------
    /// Brings every rollup up to `up_to` (floored to its width): buckets before it are final.
    async fn refresh_rollups(&self, up_to: DateTime<Utc>) -> Result<RefreshReport, StoreError>;
    /// Drops raw readings and rollups older than their cutoffs (whole chunks or partitions where
    /// the engine has them, so a cutoff inside one keeps that one until it has fully expired).
    async fn apply_retention(
        &self,
        cutoffs: &RetentionCutoffs,
    ) -> Result<RetentionReport, StoreError>;
    /// Prepares storage for readings up to `until` (partitions on PostgreSQL).
    async fn prepare_storage(&self, until: DateTime<Utc>) -> Result<(), StoreError>;
    /// Chunks or partitions per raw table.
    async fn table_stats(&self) -> Result<Vec<TableStats>, StoreError>;
    /// A trivial round trip, for readiness.
    async fn ping(&self) -> Result<(), StoreError>;
    /// `sqlite`, `postgres` or `timescaledb`: the engine label in metrics and probes.
    fn engine(&self) -> &'static str;
    fn edition(&self) -> Edition;
}

/// Runs one store call under `timeout`, records it in the store metrics and maps errors.
pub(crate) async fn instrumented_for<T>(
    engine: &'static str,
    operation: &'static str,
    timeout: Duration,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let timer = StoreCallTimer::start(crate::NAME, engine, operation);
    let result = match tokio::time::timeout(timeout, call).await {
        Ok(result) => result,
        Err(_) => Err(StoreError::Unavailable(format!(
            "{engine} {operation} timed out after {timeout:?}"
        ))),
    };
    timer.finish(result)
}

/// [`instrumented_for`] with [`CALL_TIMEOUT`].
pub(crate) async fn instrumented<T>(
    engine: &'static str,
    operation: &'static str,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    instrumented_for(engine, operation, CALL_TIMEOUT, call).await
}

/// [`instrumented`] for a batch read: no keys means no rows, with no store call and no metric.
pub(crate) async fn instrumented_batch<K, T>(
    engine: &'static str,
    operation: &'static str,
    keys: &[K],
    call: impl Future<Output = Result<Vec<T>, StoreError>>,
) -> Result<Vec<T>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    instrumented(engine, operation, call).await
}

/// Classifies a `sqlx` error.
pub(crate) fn from_sqlx(err: sqlx::Error) -> StoreError {
    use sqlx::Error as E;
    match &err {
        // 57014: statement timeout / cancel; 57P01..03: shutdown; 40001 / 40P01: serialization
        // failure / deadlock; SQLite busy / locked and their extended codes.
        E::Database(db)
            if matches!(
                db.code().as_deref(),
                Some(
                    "57014"
                        | "57P01"
                        | "57P02"
                        | "57P03"
                        | "40001"
                        | "40P01"
                        | "5"
                        | "6"
                        | "261"
                        | "262"
                        | "517"
                        | "773"
                )
            ) =>
        {
            StoreError::Unavailable(err.to_string())
        }
        E::Io(_) | E::Tls(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => {
            StoreError::Unavailable(err.to_string())
        }
        _ => StoreError::Other(err.to_string()),
    }
}

/// A stored row that fails the domain rules; only a bug or a manual edit produces one.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("corrupt row: {what}"))
}
