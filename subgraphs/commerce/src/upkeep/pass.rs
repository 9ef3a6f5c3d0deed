//! One upkeep pass over the whole store: partitions on every Postgres database (months ahead,
//! old months detached), settled rows and final payments archived, stock counters checked.
//!
//! Non-obvious: the steps are independent and each is idempotent, so a pass that fails half way
//! is simply run again next time; a failure on one database does not stop the others (each
//! database's result is reported on its own).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::metrics;
use crate::domain::ArchiveReport;
use crate::maintenance::{self, Report};
use crate::store::{CommerceStore, PostgresStore};

/// What the upkeep keeps, and how often it runs (`[subgraphs.commerce]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpkeepSettings {
    /// How often the scheduler runs a pass.
    pub every: Duration,
    /// Months of partitions made ahead of the current one.
    pub premake_months: u32,
    /// Months of orders kept attached; older months are detached for archiving.
    pub retain_months: u32,
    /// Days after its order was placed that a settled request or reservation, or a final
    /// payment, is archived (and the request's idempotency key stops being remembered).
    pub archive_after_days: u32,
}

impl Default for UpkeepSettings {
    fn default() -> Self {
        Self {
            every: Duration::from_secs(3600),
            premake_months: 3,
            retain_months: 12,
            archive_after_days: 30,
        }
    }
}

/// Rows moved per archiving statement: short transactions, a bounded lock footprint.
pub const ARCHIVE_BATCH: u32 = 5_000;
/// Batches per pass at most (a backlog after an outage drains over a few passes).
pub const MAX_ARCHIVE_BATCHES: usize = 200;

/// What one pass did.
#[derive(Debug, Default)]
pub struct PassReport {
    /// Per Postgres database: its partition report, or why it failed.
    pub partitions: Vec<(String, Result<Report, String>)>,
    pub archived: ArchiveReport,
    /// Stock rows whose `reserved` disagrees with their held reservations.
    pub drift_rows: usize,
}

impl PassReport {
    /// Whether every step succeeded.
    pub fn ok(&self) -> bool {
        self.partitions.iter().all(|(_, r)| r.is_ok())
    }
}

/// Runs one pass as of `as_of`: partitions (Postgres), archiving, the drift check.
pub async fn run_pass(
    store: &dyn CommerceStore,
    postgres: Option<&PostgresStore>,
    settings: &UpkeepSettings,
    as_of: DateTime<Utc>,
) -> anyhow::Result<PassReport> {
    let mut report = PassReport::default();
    if let Some(router) = postgres {
        let databases: Vec<(String, sqlx::PgPool)> = router
            .primaries()
            .map(|(name, pool)| (name.to_owned(), pool.clone()))
            .collect();
        for (name, pool) in &databases {
            let name = name.as_str();
            let done = maintenance::maintain_partitions(
                pool,
                settings.premake_months,
                settings.retain_months,
                as_of,
            )
            .await
            .map_err(|e| e.to_string());
            match &done {
                Ok(r) => {
                    metrics::DEFAULT_ROWS
                        .with_label_values(&[name])
                        .set(r.default_rows);
                    metrics::BLOCKED_MONTHS
                        .with_label_values(&[name])
                        .set(r.blocked.len() as i64);
                    if r.default_rows > 0 || !r.blocked.is_empty() {
                        tracing::warn!(database = name, default_rows = r.default_rows,
                            blocked = ?r.blocked, "upkeep: rows sit in a DEFAULT partition");
                    }
                }
                Err(e) => tracing::warn!(database = name, error = %e, "upkeep: partitions failed"),
            }
            report.partitions.push((name.to_owned(), done));
        }
    }
    let orders_before = as_of - chrono::Duration::days(i64::from(settings.archive_after_days));
    for _ in 0..MAX_ARCHIVE_BATCHES {
        let batch = store
            .archive_settled(orders_before, as_of, ARCHIVE_BATCH)
            .await?;
        report.archived.add(batch);
        if batch.requests < u64::from(ARCHIVE_BATCH)
            && batch.reservations < u64::from(ARCHIVE_BATCH)
            && batch.payments < u64::from(ARCHIVE_BATCH)
        {
            break;
        }
    }
    metrics::ARCHIVED
        .with_label_values(&["order_requests"])
        .inc_by(report.archived.requests);
    metrics::ARCHIVED
        .with_label_values(&["stock_reservations"])
        .inc_by(report.archived.reservations);
    metrics::ARCHIVED
        .with_label_values(&["payments"])
        .inc_by(report.archived.payments);
    let drift = store.inventory_drift().await?;
    metrics::DRIFT_ROWS.set(drift.len() as i64);
    if !drift.is_empty() {
        tracing::error!(rows = drift.len(), first = ?drift.first(),
            "upkeep: inventory.reserved disagrees with the held reservations");
    }
    report.drift_rows = drift.len();
    Ok(report)
}
