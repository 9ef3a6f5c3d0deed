//! The write path every ingest goes through (the `reportMetrics` mutation, the bulk path and the
//! demo seed): validation against the clock, the store write, and the ingest metrics.

use chrono::{DateTime, Duration, Utc};

use crate::domain::{BatchLimits, IngestReport, InvalidBatch, RawReading, ReadingBatch};
use crate::metrics::{INGEST_LAG, INGEST_ROWS, REJECTED_ROWS};
use crate::store::{StoreError, TelemetryStore};

/// Why a batch was not written.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The client's fault: nothing was written.
    #[error(transparent)]
    Invalid(#[from] InvalidBatch),
    /// The store failed: nothing was written; the batch may be sent again.
    #[error(transparent)]
    Store(StoreError),
}

/// The bounds a batch is checked against at `now`.
pub fn limits(now: DateTime<Utc>, raw_retention: Duration, max_rows: usize) -> BatchLimits {
    BatchLimits {
        now,
        oldest: now - raw_retention,
        max_rows,
    }
}

/// Counts `rows` refused for `reason`.
pub fn reject(reason: &str, rows: usize) {
    REJECTED_ROWS
        .with_label_values(&[reason])
        .inc_by(rows as u64);
}

/// Validates and writes `readings`: all of them, or none.
pub async fn write(
    store: &dyn TelemetryStore,
    readings: Vec<RawReading>,
    limits: &BatchLimits,
) -> Result<IngestReport, IngestError> {
    let count = readings.len();
    let batch = ReadingBatch::new(readings, limits).inspect_err(|e| {
        reject(
            if e.too_large.is_some() {
                "too_large"
            } else {
                "invalid"
            },
            count,
        );
    })?;
    write_batch(store, &batch, limits.now).await
}

/// Writes a validated batch and records what happened.
pub async fn write_batch(
    store: &dyn TelemetryStore,
    batch: &ReadingBatch,
    now: DateTime<Utc>,
) -> Result<IngestReport, IngestError> {
    match store.ingest(batch).await {
        Ok(report) => {
            record(batch, &report, now);
            Ok(report)
        }
        Err(StoreError::UnknownHosts(hosts)) => {
            reject("unknown_host", batch.len());
            Err(IngestError::Invalid(InvalidBatch::from_problems(
                batch.rows_of(&hosts),
            )))
        }
        Err(other) => {
            reject("store", batch.len());
            Err(IngestError::Store(other))
        }
    }
}

fn record(batch: &ReadingBatch, report: &IngestReport, now: DateTime<Utc>) {
    for part in batch.parts() {
        let label = part.measurement.table();
        if let Some(newest) = part.rows.iter().map(|r| r.time).max() {
            let lag = (now - newest).num_milliseconds().max(0) as f64 / 1000.0;
            INGEST_LAG.with_label_values(&[label]).set(lag);
        }
    }
    // The store reports totals; attribute them to measurements in proportion (exact for the
    // usual batch of one measurement, or of all four with a row each per host and time).
    let total = batch.len().max(1) as u64;
    for part in batch.parts() {
        let share = |n: u64| n * part.rows.len() as u64 / total;
        let label = part.measurement.table();
        INGEST_ROWS
            .with_label_values(&[label, "inserted"])
            .inc_by(share(report.inserted));
        INGEST_ROWS
            .with_label_values(&[label, "duplicate"])
            .inc_by(share(report.duplicates));
    }
}
