//! The SQLite adapter of [`TelemetryStore`]: the embedded store, one database file under the
//! data directory. One file per area: `hosts`, `readings` (ingest and the TSBS queries),
//! `rollups` (our rollup job and retention).
//!
//! Non-obvious: SQLite has one writer at a time, so every write runs in a transaction begun
//! with `BEGIN IMMEDIATE` (concurrent writers queue on the busy timeout instead of failing on
//! a lock upgrade), and a batch of rows travels as one JSON array expanded with `json_each`:
//! one statement and one parameter per measurement, whatever the batch size. Times are Unix
//! milliseconds.

mod hosts;
mod readings;
mod rollups;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use super::{
    Edition, MAINTENANCE_TIMEOUT, RefreshReport, RetentionCutoffs, RetentionReport, StoreError,
    TableStats, TelemetryStore, corrupt, from_sqlx, instrumented, instrumented_batch,
    instrumented_for,
};
use crate::domain::{
    AboveSpec, BucketValue, Host, HostFilter, HostId, HostSelection, Hostname, IngestReport,
    LastReading, LatestBucketsSpec, Measurement, NewHost, ReadingAbove, ReadingBatch, SeriesRow,
    SeriesSpec, Team,
};

const ENGINE: &str = "sqlite";

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating file and parent directories if needed) and migrates the database at `path`.
    pub async fn open(path: &Path) -> Result<Self, sqlx::Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        crate::migrate::sqlite(&pool).await?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A write transaction holding the database's write lock from its first statement.
    async fn write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(from_sqlx)
    }
}

/// An instant as stored: Unix milliseconds.
fn ms(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

/// A stored Unix-millisecond value as an instant.
fn from_ms(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| corrupt(format!("time {ms}")))
}

/// `items` as one JSON array, for a `json_each(?)` parameter.
fn json_array<T: Serialize>(items: impl IntoIterator<Item = T>) -> Result<String, StoreError> {
    serde_json::to_string(&items.into_iter().collect::<Vec<T>>())
        .map_err(|e| StoreError::Other(e.to_string()))
}

#[async_trait]
impl TelemetryStore for SqliteStore {
    async fn upsert_hosts(&self, new: &[NewHost]) -> Result<Vec<Host>, StoreError> {
        instrumented_batch(ENGINE, "upsert_hosts", new, hosts::upsert_hosts(self, new)).await
    }

    async fn hosts_by_ids(&self, ids: &[HostId]) -> Result<Vec<Host>, StoreError> {
        instrumented_batch(ENGINE, "hosts_by_ids", ids, hosts::hosts_by_ids(self, ids)).await
    }

    async fn hosts_by_hostnames(&self, names: &[Hostname]) -> Result<Vec<Host>, StoreError> {
        let call = hosts::hosts_by_hostnames(self, names);
        instrumented_batch(ENGINE, "hosts_by_hostnames", names, call).await
    }

    async fn hosts_by_teams(&self, teams: &[Team]) -> Result<Vec<Host>, StoreError> {
        let call = hosts::hosts_by_teams(self, teams);
        instrumented_batch(ENGINE, "hosts_by_teams", teams, call).await
    }

    async fn list_hosts(
        &self,
        filter: &HostFilter,
        first: u32,
        after: Option<HostId>,
    ) -> Result<Vec<Host>, StoreError> {
        let call = hosts::list_hosts(self, filter, first, after);
        instrumented(ENGINE, "list_hosts", call).await
    }

    async fn ingest(&self, batch: &ReadingBatch) -> Result<IngestReport, StoreError> {
        if batch.is_empty() {
            return Ok(IngestReport::default());
        }
        instrumented(ENGINE, "ingest", readings::ingest(self, batch)).await
    }

    async fn last_readings(&self, hosts: &HostSelection) -> Result<Vec<LastReading>, StoreError> {
        let call = readings::last_readings(self, hosts);
        instrumented(ENGINE, "last_readings", call).await
    }

    async fn series(&self, spec: &SeriesSpec) -> Result<Vec<SeriesRow>, StoreError> {
        instrumented(ENGINE, "series", readings::series(self, spec)).await
    }

    async fn readings_above(&self, spec: &AboveSpec) -> Result<Vec<ReadingAbove>, StoreError> {
        let call = readings::readings_above(self, spec);
        instrumented(ENGINE, "readings_above", call).await
    }

    async fn latest_buckets(
        &self,
        spec: &LatestBucketsSpec,
    ) -> Result<Vec<BucketValue>, StoreError> {
        let call = readings::latest_buckets(self, spec);
        instrumented(ENGINE, "latest_buckets", call).await
    }

    async fn refresh_rollups(&self, up_to: DateTime<Utc>) -> Result<RefreshReport, StoreError> {
        let call = rollups::refresh(self, up_to);
        instrumented_for(ENGINE, "refresh_rollups", MAINTENANCE_TIMEOUT, call).await
    }

    async fn apply_retention(
        &self,
        cutoffs: &RetentionCutoffs,
    ) -> Result<RetentionReport, StoreError> {
        let call = rollups::apply_retention(self, cutoffs);
        instrumented_for(ENGINE, "apply_retention", MAINTENANCE_TIMEOUT, call).await
    }

    async fn prepare_storage(&self, _until: DateTime<Utc>) -> Result<(), StoreError> {
        Ok(())
    }

    async fn table_stats(&self) -> Result<Vec<TableStats>, StoreError> {
        Ok(Measurement::ALL
            .iter()
            .map(|m| TableStats {
                table: m.table().to_owned(),
                chunks: 1,
            })
            .collect())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        instrumented(ENGINE, "ping", async {
            sqlx::query("SELECT 1")
                .execute(&self.pool)
                .await
                .map(drop)
                .map_err(from_sqlx)
        })
        .await
    }

    fn engine(&self) -> &'static str {
        ENGINE
    }

    fn edition(&self) -> Edition {
        Edition::Sqlite
    }
}
