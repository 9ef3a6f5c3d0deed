//! The background work a telemetry store needs while it serves: partitions made ahead of the
//! clock, rollups refreshed, retention applied, and the chunk gauges updated.
//!
//! Non-obvious: on the Timescale-License edition the rollups and retention are TimescaleDB's
//! own policies (continuous-aggregate refresh, retention and compression jobs, set by the
//! migrations), so this task only reads the chunk counts there; everywhere else it is the job
//! that stands in for those policies.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use polygate_kit::BackgroundTask;

use crate::clock::Clock;
use crate::metrics::{CHUNKS, MAINTENANCE_RUNS, ROLLUP_LAG};
use crate::settings::TelemetrySettings;
use crate::store::{Edition, TelemetryStore};

/// Partitions are prepared this far ahead of the clock.
const PREPARE_AHEAD: chrono::Duration = chrono::Duration::days(2);

fn record<T, E: std::fmt::Display>(task: &str, result: Result<T, E>) -> Option<T> {
    let outcome = if result.is_ok() { "ok" } else { "error" };
    MAINTENANCE_RUNS.with_label_values(&[task, outcome]).inc();
    result
        .map_err(|e| tracing::warn!(task, error = %e, "telemetry maintenance failed"))
        .ok()
}

/// One pass of maintenance at `now`.
pub async fn run_once(
    store: &dyn TelemetryStore,
    settings: &TelemetrySettings,
    now: DateTime<Utc>,
) {
    record(
        "prepare_storage",
        store.prepare_storage(now + PREPARE_AHEAD).await,
    );
    if store.edition() != Edition::TimescaleLicensed {
        if let Some(report) = record("refresh_rollups", store.refresh_rollups(now).await) {
            let lag = report
                .watermark
                .map_or(0.0, |w| (now - w).num_milliseconds() as f64 / 1000.0);
            ROLLUP_LAG
                .with_label_values(&[&format!("{:?}", store.edition())])
                .set(lag);
        }
        let cutoffs = settings.cutoffs(now);
        if let Some(report) = record("retention", store.apply_retention(&cutoffs).await)
            && (report.chunks_dropped > 0 || report.rows_deleted > 0)
        {
            tracing::info!(
                chunks = report.chunks_dropped,
                rows = report.rows_deleted,
                "telemetry retention"
            );
        }
    }
    if let Some(stats) = record("table_stats", store.table_stats().await) {
        for table in stats {
            CHUNKS
                .with_label_values(&[&table.table])
                .set(table.chunks as i64);
        }
    }
}

/// Maintenance every `settings.maintenance_every_secs`, first at start.
pub fn task(
    store: Arc<dyn TelemetryStore>,
    settings: TelemetrySettings,
    clock: Arc<dyn Clock>,
) -> BackgroundTask {
    let every = Duration::from_secs(settings.maintenance_every_secs.max(1));
    BackgroundTask::new("telemetry/maintenance", async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            run_once(store.as_ref(), &settings, clock.now()).await;
        }
    })
}
