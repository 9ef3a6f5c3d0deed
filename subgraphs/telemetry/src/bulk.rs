//! The bulk ingest path: readings streamed from agents (`polygate-telemetry ingest`, CSV on
//! stdin) or from the generator into the store, in batches of up to [`BulkOptions::batch_rows`]
//! written by [`BulkOptions::writers`] concurrent writers (binary `COPY` on PostgreSQL).
//!
//! Back-pressure without a timer: batches are cut with `ready_chunks` (whatever has arrived,
//! up to the batch size, so a slow agent's rows go at once and a fast file fills whole
//! batches), and `buffer_unordered` pulls the next batch only when a writer is free, so a
//! store that slows down slows the reader instead of filling memory. Each batch follows the
//! one batch rule (`domain::reading`): refused whole, or written whole.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};

use crate::domain::{
    BatchLimits, HostId, InvalidBatch, MAX_BULK_ROWS, Measurement, RawReading, ReadingBatch, Row,
};
use crate::ingest::{self, IngestError};
use crate::store::TelemetryStore;

#[derive(Debug, Clone, Copy)]
pub struct BulkOptions {
    /// Rows per batch (one COPY), at most [`MAX_BULK_ROWS`].
    pub batch_rows: usize,
    /// Batches written at once.
    pub writers: usize,
}

impl Default for BulkOptions {
    fn default() -> Self {
        Self {
            batch_rows: 20_000,
            writers: 2,
        }
    }
}

/// What a bulk load did.
#[derive(Debug, Clone, Default)]
pub struct BulkReport {
    pub rows: u64,
    pub inserted: u64,
    pub duplicates: u64,
    pub refused_rows: u64,
    pub refused_batches: u64,
    /// The first refusals, for the operator.
    pub errors: Vec<String>,
    pub elapsed: Duration,
    /// Metric values written (rows × columns).
    pub values: u64,
}

impl std::fmt::Display for BulkReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        write!(
            f,
            "{} rows ({} new, {} already stored, {} refused in {} batches) in {:.2} s: {:.0} rows/s, {:.0} values/s",
            self.rows,
            self.inserted,
            self.duplicates,
            self.refused_rows,
            self.refused_batches,
            secs,
            self.rows as f64 / secs,
            self.values as f64 / secs,
        )
    }
}

/// Writes every reading of `rows` (an `Err` is a row that did not parse, which refuses its
/// batch), calling `progress` with the rows done so far.
pub async fn load(
    store: &dyn TelemetryStore,
    rows: impl Stream<Item = Result<RawReading, String>>,
    limits: impl Fn() -> BatchLimits,
    options: BulkOptions,
    progress: impl Fn(u64),
) -> BulkReport {
    let started = Instant::now();
    let batch_rows = options.batch_rows.clamp(1, MAX_BULK_ROWS);
    let limits = &limits;
    let mut writes = std::pin::pin!(
        rows.ready_chunks(batch_rows)
            .map(|chunk| async move {
                let count = chunk.len();
                let values: u64 = chunk
                    .iter()
                    .flatten()
                    .map(|r| r.measurement.columns().len() as u64)
                    .sum();
                let problems: Vec<(usize, String)> = chunk
                    .iter()
                    .enumerate()
                    .filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e.clone())))
                    .collect();
                let result = if problems.is_empty() {
                    let readings = chunk.into_iter().flatten().collect();
                    ingest::write(store, readings, &limits()).await
                } else {
                    ingest::reject("invalid", count);
                    Err(IngestError::Invalid(InvalidBatch::from_problems(problems)))
                };
                (count, values, result)
            })
            .buffer_unordered(options.writers.max(1))
    );
    let mut report = BulkReport::default();
    while let Some((count, values, result)) = writes.next().await {
        report.rows += count as u64;
        match result {
            Ok(written) => {
                report.inserted += written.inserted;
                report.duplicates += written.duplicates;
                report.values += values;
            }
            Err(e) => {
                report.refused_rows += count as u64;
                report.refused_batches += 1;
                if report.errors.len() < 5 {
                    report.errors.push(e.to_string());
                }
            }
        }
        progress(report.rows);
    }
    report.elapsed = started.elapsed();
    report
}

/// Writes already-grouped batches (the generator's), `writers` at a time.
pub async fn load_batches(
    store: &dyn TelemetryStore,
    batches: impl Stream<Item = ReadingBatch>,
    now: DateTime<Utc>,
    writers: usize,
    progress: impl Fn(u64),
) -> anyhow::Result<BulkReport> {
    let started = Instant::now();
    let mut writes = std::pin::pin!(
        batches
            .map(|batch| async move {
                let values: u64 = batch
                    .parts()
                    .iter()
                    .map(|p| (p.rows.len() * p.measurement.columns().len()) as u64)
                    .sum();
                let result = ingest::write_batch(store, &batch, now).await;
                (batch.len(), values, result)
            })
            .buffer_unordered(writers.max(1))
    );
    let mut report = BulkReport::default();
    while let Some((count, values, result)) = writes.next().await {
        let written = result?;
        report.rows += count as u64;
        report.values += values;
        report.inserted += written.inserted;
        report.duplicates += written.duplicates;
        progress(report.rows);
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// One CSV line of a measurement's table as `psql \copy` reads it: `time,host_id,value,…`
/// (RFC 3339 time, values in column order).
pub fn parse_csv_line(measurement: Measurement, line: &str) -> Result<RawReading, String> {
    let mut fields = line.trim_end_matches(['\r', '\n']).split(',');
    let time = fields.next().ok_or("empty line")?;
    let time = DateTime::parse_from_rfc3339(time.trim())
        .map_err(|e| format!("time {time:?}: {e}"))?
        .with_timezone(&Utc);
    let host = fields.next().ok_or("no host_id")?;
    let host = host
        .trim()
        .parse::<HostId>()
        .map_err(|e| format!("host_id {host:?}: {e}"))?;
    let values = fields
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .map_err(|e| format!("value {v:?}: {e}"))
        })
        .collect::<Result<Vec<f64>, String>>()?;
    Ok(RawReading {
        measurement,
        row: Row {
            host,
            time: crate::domain::to_millis(time),
            values,
        },
    })
}

/// A row as a CSV line [`parse_csv_line`] reads back.
pub fn csv_line(row: &Row) -> String {
    let mut line = format!(
        "{},{}",
        row.time
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        row.host
    );
    for v in &row.values {
        line.push(',');
        line.push_str(&v.to_string());
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_csv_line_round_trips_and_nan_parses_to_be_refused_later() {
        let row = Row {
            host: HostId::new(3).unwrap(),
            time: Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 10).unwrap(),
            values: vec![1.5, 2.0, 1e12],
        };
        let line = csv_line(&row);
        assert_eq!(line, "2024-03-01T00:00:10.000Z,3,1.5,2,1000000000000");
        assert_eq!(parse_csv_line(Measurement::Cpu, &line).unwrap().row, row);
        let nan = parse_csv_line(Measurement::Cpu, "2024-03-01T00:00:10Z,3,NaN").unwrap();
        assert!(nan.row.values[0].is_nan());
        assert!(parse_csv_line(Measurement::Cpu, "yesterday,3,1").is_err());
        assert!(parse_csv_line(Measurement::Cpu, "2024-03-01T00:00:10Z,x,1").is_err());
    }
}
