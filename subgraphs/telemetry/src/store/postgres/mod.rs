//! The PostgreSQL adapter of [`TelemetryStore`], one adapter for three editions detected when
//! it opens (see `edition.rs`): TimescaleDB with the Timescale License (hypertables, continuous
//! aggregates, compression and policies), TimescaleDB Apache (hypertables and `time_bucket`;
//! our rollup job) and plain PostgreSQL (daily range partitions, `date_bin`; our rollup job).
//!
//! Non-obvious: two pools to one database. sqlx answers the queries (prepared statements,
//! typed rows); a small tokio-postgres pool carries the ingest, because only it streams a
//! binary `COPY`. Both are bounded by `max_connections`, and every connection sets a
//! server-side `statement_timeout`, so a query abandoned by a timed-out caller stops too.

mod copy_pool;
mod edition;
mod hosts;
mod ingest;
pub mod partitions;
pub mod queries;
pub mod rollups;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

pub use edition::Dialect;

use super::{
    Edition, MAINTENANCE_TIMEOUT, RefreshReport, RetentionCutoffs, RetentionReport, StoreError,
    TableStats, TelemetryStore, from_sqlx, instrumented, instrumented_batch, instrumented_for,
};
use crate::domain::{
    AboveSpec, BucketValue, Host, HostFilter, HostId, HostSelection, Hostname, IngestReport,
    LastReading, LatestBucketsSpec, Measurement, NewHost, ReadingAbove, ReadingBatch, SeriesRow,
    SeriesSpec, Team,
};
use crate::settings::TelemetrySettings;
use copy_pool::CopyPool;
use partitions::Partitions;

/// The server-side limit on one statement (a refresh slice or retention included).
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(300);

pub struct PostgresStore {
    pool: PgPool,
    copy: CopyPool,
    edition: Edition,
    partitions: Partitions,
}

impl PostgresStore {
    /// Connects, detects the edition (creating the extension where the server preloads it),
    /// and migrates.
    pub async fn connect(url: &str, settings: &TelemetrySettings) -> anyhow::Result<Self> {
        let timeout = STATEMENT_TIMEOUT.as_millis().to_string();
        let options = PgConnectOptions::from_str(url)?
            .options([
                ("statement_timeout", timeout.as_str()),
                // `CREATE … IF NOT EXISTS` notices are expected, not news for the log.
                ("client_min_messages", "warning"),
            ])
            .application_name("polygate-telemetry");
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        let edition = edition::detect(&pool, settings.use_timescaledb()).await?;
        crate::migrate::postgres(&pool, edition).await?;
        let copy = CopyPool::new(url, settings.max_connections, STATEMENT_TIMEOUT)?;
        Ok(Self {
            pool,
            copy,
            edition,
            partitions: Partitions::default(),
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn dialect(&self) -> Dialect {
        Dialect(self.edition)
    }

    fn engine_label(&self) -> &'static str {
        if self.dialect().timescale() {
            "timescaledb"
        } else {
            "postgres"
        }
    }
}

#[async_trait]
impl TelemetryStore for PostgresStore {
    async fn upsert_hosts(&self, new: &[NewHost]) -> Result<Vec<Host>, StoreError> {
        let engine = self.engine_label();
        instrumented_batch(engine, "upsert_hosts", new, hosts::upsert_hosts(self, new)).await
    }

    async fn hosts_by_ids(&self, ids: &[HostId]) -> Result<Vec<Host>, StoreError> {
        let engine = self.engine_label();
        instrumented_batch(engine, "hosts_by_ids", ids, hosts::hosts_by_ids(self, ids)).await
    }

    async fn hosts_by_hostnames(&self, names: &[Hostname]) -> Result<Vec<Host>, StoreError> {
        let call = hosts::hosts_by_hostnames(self, names);
        instrumented_batch(self.engine_label(), "hosts_by_hostnames", names, call).await
    }

    async fn hosts_by_teams(&self, teams: &[Team]) -> Result<Vec<Host>, StoreError> {
        let call = hosts::hosts_by_teams(self, teams);
        instrumented_batch(self.engine_label(), "hosts_by_teams", teams, call).await
    }

    async fn list_hosts(
        &self,
        filter: &HostFilter,
        first: u32,
        after: Option<HostId>,
    ) -> Result<Vec<Host>, StoreError> {
        let call = hosts::list_hosts(self, filter, first, after);
        instrumented(self.engine_label(), "list_hosts", call).await
    }

    async fn ingest(&self, batch: &ReadingBatch) -> Result<IngestReport, StoreError> {
        if batch.is_empty() {
            return Ok(IngestReport::default());
        }
        instrumented(self.engine_label(), "ingest", ingest::ingest(self, batch)).await
    }

    async fn last_readings(&self, hosts: &HostSelection) -> Result<Vec<LastReading>, StoreError> {
        let call = queries::last_readings(self, hosts);
        instrumented(self.engine_label(), "last_readings", call).await
    }

    async fn series(&self, spec: &SeriesSpec) -> Result<Vec<SeriesRow>, StoreError> {
        instrumented(self.engine_label(), "series", queries::series(self, spec)).await
    }

    async fn readings_above(&self, spec: &AboveSpec) -> Result<Vec<ReadingAbove>, StoreError> {
        let call = queries::readings_above(self, spec);
        instrumented(self.engine_label(), "readings_above", call).await
    }

    async fn latest_buckets(
        &self,
        spec: &LatestBucketsSpec,
    ) -> Result<Vec<BucketValue>, StoreError> {
        let call = queries::latest_buckets(self, spec);
        instrumented(self.engine_label(), "latest_buckets", call).await
    }

    async fn refresh_rollups(&self, up_to: DateTime<Utc>) -> Result<RefreshReport, StoreError> {
        let call = rollups::refresh(self, up_to);
        instrumented_for(
            self.engine_label(),
            "refresh_rollups",
            MAINTENANCE_TIMEOUT,
            call,
        )
        .await
    }

    async fn apply_retention(
        &self,
        cutoffs: &RetentionCutoffs,
    ) -> Result<RetentionReport, StoreError> {
        let call = rollups::apply_retention(self, cutoffs);
        instrumented_for(
            self.engine_label(),
            "apply_retention",
            MAINTENANCE_TIMEOUT,
            call,
        )
        .await
    }

    async fn prepare_storage(&self, until: DateTime<Utc>) -> Result<(), StoreError> {
        if self.dialect().timescale() {
            return Ok(());
        }
        let from = until - chrono::Duration::days(3);
        self.partitions.ensure(&self.pool, from, until).await
    }

    async fn table_stats(&self) -> Result<Vec<TableStats>, StoreError> {
        let mut stats = Vec::new();
        for &measurement in Measurement::ALL {
            let table = measurement.table();
            let chunks = if self.dialect().timescale() {
                let n: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = $1",
                )
                .bind(table)
                .fetch_one(&self.pool)
                .await
                .map_err(from_sqlx)?;
                n as u64
            } else {
                partitions::partitions(&self.pool, table).await?.len() as u64
            };
            stats.push(TableStats {
                table: table.to_owned(),
                chunks,
            });
        }
        Ok(stats)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        instrumented(self.engine_label(), "ping", async {
            sqlx::query("SELECT 1")
                .execute(&self.pool)
                .await
                .map(drop)
                .map_err(from_sqlx)
        })
        .await
    }

    fn engine(&self) -> &'static str {
        self.engine_label()
    }

    fn edition(&self) -> Edition {
        self.edition
    }
}
