//! Readings and the batches they are written in, validated before any store sees them.
//!
//! The batch rule (one rule for every path, `reportMetrics` and the bulk COPY path alike): **a
//! batch with any bad row is refused whole and nothing of it is written.** A bad row is a NaN or
//! infinite value, a wrong number of values, a time further than [`MAX_CLOCK_SKEW`] ahead of the
//! clock or older than the raw retention, or (found by the store) a host that is not registered.
//! Why whole: an agent that retries a half-applied batch cannot tell which half landed, and
//! readings are idempotent on `(host, time)`, so resending the corrected batch is always safe.
//! Duplicates of one `(host, time)` inside a batch keep the first row.

use std::collections::HashSet;

use chrono::{DateTime, Duration, DurationRound, Utc};

use super::{HostId, InvalidInput, Measurement};

/// How far ahead of the subgraph's clock a reading may be (agents' clocks drift).
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(5);

/// Most rows one `reportMetrics` call may carry; the bulk path uses larger batches.
pub const MAX_MUTATION_ROWS: usize = 1_000;

/// Most rows one batch of the bulk path carries (one COPY).
pub const MAX_BULK_ROWS: usize = 50_000;

/// One row of a measurement's table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub host: HostId,
    pub time: DateTime<Utc>,
    /// One value per column of the measurement, in column order.
    pub values: Vec<f64>,
}

/// One row as received, with its measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct RawReading {
    pub measurement: Measurement,
    pub row: Row,
}

/// The rows of one measurement in a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasurementRows {
    pub measurement: Measurement,
    pub rows: Vec<Row>,
}

/// A validated batch: every row well formed, times within bounds, grouped by measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadingBatch {
    parts: Vec<MeasurementRows>,
    /// Rows dropped because an earlier row of the batch had the same measurement, host and time.
    pub repeated: usize,
}

/// Bounds a batch is checked against.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    pub now: DateTime<Utc>,
    /// Readings older than this are refused (they would be dropped by retention at once).
    pub oldest: DateTime<Utc>,
    pub max_rows: usize,
}

/// Why a batch was refused: the first few bad rows (by position in the batch).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct InvalidBatch {
    pub problems: Vec<(usize, String)>,
    /// How many bad rows there were in all.
    pub bad_rows: usize,
    /// Set when the batch was refused for its size, before its rows were checked.
    pub too_large: Option<usize>,
}

/// How many bad rows an error names.
const NAMED_PROBLEMS: usize = 5;

impl InvalidBatch {
    fn describe(&self) -> String {
        if let Some(limit) = self.too_large {
            return format!("a batch carries at most {limit} readings; nothing was written");
        }
        let named: Vec<String> = self
            .problems
            .iter()
            .map(|(i, p)| format!("reading {i}: {p}"))
            .collect();
        format!(
            "{} bad reading(s), the batch was refused whole and nothing was written: {}",
            self.bad_rows,
            named.join("; ")
        )
    }

    /// A refusal for rows the store found bad (unknown hosts), by position.
    pub fn from_problems(problems: Vec<(usize, String)>) -> Self {
        Self {
            bad_rows: problems.len(),
            problems: problems.into_iter().take(NAMED_PROBLEMS).collect(),
            too_large: None,
        }
    }
}

impl ReadingBatch {
    /// Validates `readings` against `limits`: all of them, or an error naming the bad ones.
    pub fn new(readings: Vec<RawReading>, limits: &BatchLimits) -> Result<Self, InvalidBatch> {
        if readings.len() > limits.max_rows {
            return Err(InvalidBatch {
                problems: Vec::new(),
                bad_rows: readings.len(),
                too_large: Some(limits.max_rows),
            });
        }
        let latest = limits.now + MAX_CLOCK_SKEW;
        let mut problems = Vec::new();
        for (i, reading) in readings.iter().enumerate() {
            let expected = reading.measurement.columns().len();
            let row = &reading.row;
            let problem = if row.values.len() != expected {
                Some(format!(
                    "{} takes {expected} values, got {}",
                    reading.measurement,
                    row.values.len()
                ))
            } else if let Some(col) = row.values.iter().position(|v| !v.is_finite()) {
                Some(format!(
                    "{}.{} is not a finite number",
                    reading.measurement,
                    reading.measurement.columns()[col]
                ))
            } else if row.time > latest {
                Some(format!(
                    "time {} is more than {} minutes ahead of the clock",
                    row.time.to_rfc3339(),
                    MAX_CLOCK_SKEW.num_minutes()
                ))
            } else if row.time < limits.oldest {
                Some(format!(
                    "time {} is older than the retention ({})",
                    row.time.to_rfc3339(),
                    limits.oldest.to_rfc3339()
                ))
            } else {
                None
            };
            if let Some(problem) = problem {
                problems.push((i, problem));
            }
        }
        if !problems.is_empty() {
            return Err(InvalidBatch::from_problems(problems));
        }
        Ok(Self::group(readings))
    }

    /// Groups already-validated readings (the generator's own rows) without checks.
    pub fn group(readings: Vec<RawReading>) -> Self {
        let mut parts: Vec<MeasurementRows> = Vec::new();
        let mut seen = HashSet::new();
        let mut repeated = 0;
        for RawReading { measurement, row } in readings {
            if !seen.insert((measurement, row.host, row.time)) {
                repeated += 1;
                continue;
            }
            match parts.iter_mut().find(|p| p.measurement == measurement) {
                Some(part) => part.rows.push(row),
                None => parts.push(MeasurementRows {
                    measurement,
                    rows: vec![row],
                }),
            }
        }
        parts.sort_by_key(|p| p.measurement);
        Self { parts, repeated }
    }

    pub fn parts(&self) -> &[MeasurementRows] {
        &self.parts
    }

    pub fn len(&self) -> usize {
        self.parts.iter().map(|p| p.rows.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every host the batch names, sorted, once each.
    pub fn hosts(&self) -> Vec<HostId> {
        let mut hosts: Vec<HostId> = self
            .parts
            .iter()
            .flat_map(|p| p.rows.iter().map(|r| r.host))
            .collect();
        hosts.sort();
        hosts.dedup();
        hosts
    }

    /// The positions (in the order the batch holds them) of the rows of `hosts`, for errors.
    pub fn rows_of(&self, hosts: &[HostId]) -> Vec<(usize, String)> {
        self.parts
            .iter()
            .flat_map(|p| p.rows.iter().map(move |r| (p.measurement, r)))
            .enumerate()
            .filter(|(_, (_, r))| hosts.contains(&r.host))
            .map(|(i, (m, r))| (i, format!("{m}: host {} is not registered", r.host)))
            .collect()
    }

    /// The earliest and latest reading times, when the batch has rows.
    pub fn time_range(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let times = self
            .parts
            .iter()
            .flat_map(|p| p.rows.iter().map(|r| r.time));
        let min = times.clone().min()?;
        let max = times.max()?;
        Some((min, max))
    }
}

/// What writing a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Rows newly stored.
    pub inserted: u64,
    /// Rows whose `(host, time)` was already stored (a retried batch): left as they were.
    pub duplicates: u64,
}

impl IngestReport {
    pub fn add(&mut self, other: IngestReport) {
        self.inserted += other.inserted;
        self.duplicates += other.duplicates;
    }
}

/// The newest reading of one host in one measurement (TSBS lastpoint).
#[derive(Debug, Clone, PartialEq)]
pub struct LastReading {
    pub host: HostId,
    pub measurement: Measurement,
    pub time: DateTime<Utc>,
    pub values: Vec<f64>,
}

/// `time` truncated to whole milliseconds, the precision every engine stores.
pub fn to_millis(time: DateTime<Utc>) -> DateTime<Utc> {
    time.duration_trunc(Duration::milliseconds(1))
        .unwrap_or(time)
}

impl From<InvalidInput> for InvalidBatch {
    fn from(err: InvalidInput) -> Self {
        InvalidBatch::from_problems(vec![(0, err.to_string())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap()
    }

    fn limits() -> BatchLimits {
        BatchLimits {
            now: now(),
            oldest: now() - Duration::days(7),
            max_rows: 3,
        }
    }

    fn cpu(host: i32, time: DateTime<Utc>, value: f64) -> RawReading {
        RawReading {
            measurement: Measurement::Cpu,
            row: Row {
                host: HostId::new(host).unwrap(),
                time,
                values: vec![value; 10],
            },
        }
    }

    #[test]
    fn a_good_batch_is_grouped_by_measurement_and_keeps_the_first_of_repeats() {
        let batch = ReadingBatch::new(
            vec![cpu(1, now(), 1.0), cpu(1, now(), 2.0), cpu(2, now(), 3.0)],
            &limits(),
        )
        .unwrap();
        assert_eq!(batch.len(), 2);
        assert_eq!(batch.repeated, 1);
        assert_eq!(batch.parts()[0].rows[0].values[0], 1.0);
    }

    #[test]
    fn one_bad_row_refuses_the_batch_and_names_the_row() {
        let err = ReadingBatch::new(vec![cpu(1, now(), 1.0), cpu(2, now(), f64::NAN)], &limits())
            .unwrap_err();
        assert_eq!(err.bad_rows, 1);
        assert_eq!(err.problems[0].0, 1);
        assert!(
            err.to_string()
                .contains("usage_user is not a finite number"),
            "{err}"
        );
        assert!(err.to_string().contains("nothing was written"), "{err}");
    }

    #[test]
    fn far_future_old_and_oversized_batches_are_refused() {
        let future = ReadingBatch::new(vec![cpu(1, now() + Duration::minutes(6), 1.0)], &limits());
        assert!(
            future
                .unwrap_err()
                .to_string()
                .contains("ahead of the clock")
        );
        let within_skew =
            ReadingBatch::new(vec![cpu(1, now() + Duration::minutes(4), 1.0)], &limits());
        assert!(within_skew.is_ok());
        let old = ReadingBatch::new(vec![cpu(1, now() - Duration::days(8), 1.0)], &limits());
        assert!(
            old.unwrap_err()
                .to_string()
                .contains("older than the retention")
        );
        let big = ReadingBatch::new(vec![cpu(1, now(), 1.0); 4], &limits()).unwrap_err();
        assert_eq!(big.too_large, Some(3));
    }

    #[test]
    fn a_wrong_number_of_values_is_refused() {
        let mut reading = cpu(1, now(), 1.0);
        reading.row.values.pop();
        let err = ReadingBatch::new(vec![reading], &limits()).unwrap_err();
        assert!(
            err.to_string().contains("cpu takes 10 values, got 9"),
            "{err}"
        );
    }
}
