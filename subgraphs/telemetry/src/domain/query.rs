//! What a read asks for, validated: time windows, bucket widths, aggregates, gap filling, and
//! the specs of the TSBS devops query types (series, readings above a threshold, latest
//! buckets).
//!
//! Non-obvious: bucket widths must divide a day. Then a bucket's start does not depend on the
//! origin a database's bucketing function uses (`time_bucket` counts from 2000-01-03,
//! `date_bin` from the origin given, SQLite from the Unix epoch), so every engine puts a reading
//! in the same bucket, and the 1-minute and 1-hour rollups tile every bucket exactly.

use chrono::{DateTime, Duration, Utc};

use super::{HostId, HostSelection, InvalidInput, Measurement, Metric};

/// Most buckets one series may have.
pub const MAX_BUCKETS: i64 = 10_000;
/// Most points (rows of buckets × hosts) one series query may return.
pub const MAX_POINTS: usize = 200_000;
/// Longest window a query may read.
pub const MAX_WINDOW: Duration = Duration::days(400);
/// Most readings `hostsAbove` returns.
pub const MAX_ABOVE: u32 = 10_000;
/// Most buckets `latestBuckets` returns.
pub const MAX_LATEST: u32 = 1_000;

/// A half-open time range `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeWindow {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl TimeWindow {
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Self, InvalidInput> {
        if from >= to {
            return Err(InvalidInput::new("window", "from must be before to"));
        }
        if to - from > MAX_WINDOW {
            return Err(InvalidInput::new(
                "window",
                format!("spans at most {} days", MAX_WINDOW.num_days()),
            ));
        }
        Ok(Self { from, to })
    }

    /// The last `span` before `now`.
    pub fn last(span: Duration, now: DateTime<Utc>) -> Result<Self, InvalidInput> {
        Self::new(now - span, now)
    }

    /// True when both ends fall on multiples of `width` seconds since the epoch.
    pub fn aligned_to(&self, width: i64) -> bool {
        self.from.timestamp_micros() % (width * 1_000_000) == 0
            && self.to.timestamp_micros() % (width * 1_000_000) == 0
    }
}

/// A bucket width in seconds: from 1 s to a day, dividing a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BucketWidth(i64);

impl BucketWidth {
    pub const DAY: i64 = 86_400;

    pub fn seconds(secs: i64) -> Result<Self, InvalidInput> {
        if !(1..=Self::DAY).contains(&secs) || Self::DAY % secs != 0 {
            return Err(InvalidInput::new(
                "bucket",
                "must divide a day: e.g. 10s, 1m, 5m, 15m, 1h, 6h, 12h, 1d",
            ));
        }
        Ok(Self(secs))
    }

    /// `10s`, `1m`, `5m`, `1h`, `1d`: a number and one unit of s, m, h or d.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        Self::seconds(parse_span(text, "bucket")?.num_seconds())
    }

    pub fn secs(self) -> i64 {
        self.0
    }

    /// The start of the bucket holding `time`.
    pub fn floor(self, time: DateTime<Utc>) -> DateTime<Utc> {
        let micros = self.0 * 1_000_000;
        let t = time.timestamp_micros();
        DateTime::from_timestamp_micros(t - t.rem_euclid(micros)).unwrap_or(time)
    }

    /// How many buckets cover `window`.
    pub fn count(self, window: &TimeWindow) -> i64 {
        let start = self.floor(window.from);
        let span = (window.to - start).num_microseconds().unwrap_or(i64::MAX);
        let micros = self.0 * 1_000_000;
        (span + micros - 1) / micros
    }
}

/// A span such as `90s`, `15m`, `12h` or `7d`; `field` names the argument in errors.
pub fn parse_span(text: &str, field: &'static str) -> Result<Duration, InvalidInput> {
    let text = text.trim();
    let bad = || InvalidInput::new(field, "write a number and a unit: 10s, 5m, 12h, 7d");
    let unit = text.chars().last().ok_or_else(bad)?;
    let n: i64 = text[..text.len() - unit.len_utf8()]
        .parse()
        .map_err(|_| bad())?;
    if n <= 0 || n > 100_000 {
        return Err(bad());
    }
    match unit {
        's' => Ok(Duration::seconds(n)),
        'm' => Ok(Duration::minutes(n)),
        'h' => Ok(Duration::hours(n)),
        'd' => Ok(Duration::days(n)),
        _ => Err(bad()),
    }
}

/// How readings in a bucket are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
pub enum Aggregate {
    Avg,
    Max,
    Min,
    Sum,
    Count,
}

impl Aggregate {
    /// The SQL aggregate function over raw readings.
    pub fn sql(self) -> &'static str {
        match self {
            Aggregate::Avg => "avg",
            Aggregate::Max => "max",
            Aggregate::Min => "min",
            Aggregate::Sum => "sum",
            Aggregate::Count => "count",
        }
    }
}

/// What a series shows for a bucket without readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, async_graphql::Enum)]
pub enum Fill {
    /// Leave the bucket out.
    #[default]
    None,
    /// Show the bucket with a null value.
    Null,
    /// Carry the last value before it forward (null before the first).
    Previous,
}

/// A bucketed series query: TSBS single-groupby, cpu-max-all and double-groupby.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SeriesSpec {
    pub measurement: Measurement,
    /// One to all metrics of `measurement`, in the order asked, without repeats.
    pub metrics: Vec<Metric>,
    pub hosts: HostSelection,
    pub window: TimeWindow,
    pub bucket: BucketWidth,
    pub aggregate: Aggregate,
    /// One series per host (double-groupby) instead of one over all selected hosts.
    pub per_host: bool,
    pub fill: Fill,
}

impl SeriesSpec {
    /// Checks that the metrics share a measurement and the window has few enough buckets.
    pub fn new(
        metrics: Vec<Metric>,
        hosts: HostSelection,
        window: TimeWindow,
        bucket: BucketWidth,
        aggregate: Aggregate,
        per_host: bool,
        fill: Fill,
    ) -> Result<Self, InvalidInput> {
        let mut unique = Vec::new();
        for m in metrics {
            if !unique.contains(&m) {
                unique.push(m);
            }
        }
        let measurement = unique
            .first()
            .map(|m| m.measurement())
            .ok_or_else(|| InvalidInput::new("metrics", "name at least one metric"))?;
        if unique.iter().any(|m| m.measurement() != measurement) {
            return Err(InvalidInput::new(
                "metrics",
                "all metrics of one query come from one measurement (cpu, mem, disk or net)",
            ));
        }
        let buckets = bucket.count(&window);
        if buckets > MAX_BUCKETS {
            return Err(InvalidInput::new(
                "bucket",
                format!("the window holds {buckets} buckets; at most {MAX_BUCKETS}"),
            ));
        }
        Ok(Self {
            measurement,
            metrics: unique,
            hosts,
            window,
            bucket,
            aggregate,
            per_host,
            fill,
        })
    }

    /// The rollup width (seconds) whose buckets tile this query's buckets and window, largest
    /// first, among `widths`.
    pub fn rollup(&self, widths: &[i64]) -> Option<i64> {
        widths
            .iter()
            .copied()
            .filter(|w| self.bucket.secs() % w == 0 && self.window.aligned_to(*w))
            .max()
    }
}

/// One bucket of a series query as a store answers it: values in the order of the metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRow {
    pub bucket: DateTime<Utc>,
    /// Set when the query was per host.
    pub host: Option<HostId>,
    pub values: Vec<Option<f64>>,
}

/// One point of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub time: DateTime<Utc>,
    pub value: Option<f64>,
}

/// One metric's points, for one host or for all the selected hosts together.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub host: Option<HostId>,
    pub metric: Metric,
    pub points: Vec<Point>,
}

/// Turns store rows (sorted by host, then bucket) into one series per host and metric, filling
/// gaps as `spec.fill` says. The same code runs for every engine, so gap filling answers the
/// same everywhere (an engine with native gap filling may hand in rows already filled).
pub fn assemble(spec: &SeriesSpec, rows: &[SeriesRow]) -> Vec<Series> {
    let mut groups: Vec<(Option<HostId>, Vec<&SeriesRow>)> = Vec::new();
    for row in rows {
        match groups.last_mut() {
            Some((host, members)) if *host == row.host => members.push(row),
            _ => groups.push((row.host, vec![row])),
        }
    }
    let mut out = Vec::new();
    for (host, members) in groups {
        for (i, metric) in spec.metrics.iter().enumerate() {
            let points = members
                .iter()
                .map(|r| Point {
                    time: r.bucket,
                    value: r.values.get(i).copied().flatten(),
                })
                .collect();
            out.push(Series {
                host,
                metric: *metric,
                points: fill(spec, points),
            });
        }
    }
    out
}

/// Every bucket of the window, with the given points and `spec.fill` for the rest.
fn fill(spec: &SeriesSpec, points: Vec<Point>) -> Vec<Point> {
    if spec.fill == Fill::None {
        return points.into_iter().filter(|p| p.value.is_some()).collect();
    }
    let step = Duration::seconds(spec.bucket.secs());
    let mut given = points.into_iter().peekable();
    let mut out = Vec::new();
    let mut previous = None;
    let mut time = spec.bucket.floor(spec.window.from);
    while time < spec.window.to {
        while given.peek().is_some_and(|p| p.time < time) {
            given.next();
        }
        let value = match given.peek() {
            Some(p) if p.time == time => given.next().and_then(|p| p.value),
            _ => None,
        };
        let shown = match (value, spec.fill) {
            (Some(v), _) => {
                previous = Some(v);
                Some(v)
            }
            (None, Fill::Previous) => previous,
            (None, _) => None,
        };
        out.push(Point { time, value: shown });
        time += step;
    }
    out
}

/// Readings of one metric above a threshold (TSBS high-cpu).
#[derive(Debug, Clone, PartialEq)]
pub struct AboveSpec {
    pub metric: Metric,
    pub threshold: f64,
    pub hosts: HostSelection,
    pub window: TimeWindow,
    pub limit: u32,
}

impl AboveSpec {
    pub fn new(
        metric: Metric,
        threshold: f64,
        hosts: HostSelection,
        window: TimeWindow,
        limit: u32,
    ) -> Result<Self, InvalidInput> {
        if !threshold.is_finite() {
            return Err(InvalidInput::new("threshold", "must be a finite number"));
        }
        if limit == 0 || limit > MAX_ABOVE {
            return Err(InvalidInput::new(
                "first",
                format!("must be between 1 and {MAX_ABOVE}"),
            ));
        }
        Ok(Self {
            metric,
            threshold,
            hosts,
            window,
            limit,
        })
    }
}

/// One reading above the threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadingAbove {
    pub host: HostId,
    pub time: DateTime<Utc>,
    pub value: f64,
}

/// The newest buckets before a moment over all hosts (TSBS groupby-orderby-limit).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LatestBucketsSpec {
    pub metric: Metric,
    pub before: DateTime<Utc>,
    pub bucket: BucketWidth,
    pub aggregate: Aggregate,
    pub limit: u32,
}

impl LatestBucketsSpec {
    pub fn new(
        metric: Metric,
        before: DateTime<Utc>,
        bucket: BucketWidth,
        aggregate: Aggregate,
        limit: u32,
    ) -> Result<Self, InvalidInput> {
        if limit == 0 || limit > MAX_LATEST {
            return Err(InvalidInput::new(
                "limit",
                format!("must be between 1 and {MAX_LATEST}"),
            ));
        }
        Ok(Self {
            metric,
            before,
            bucket,
            aggregate,
            limit,
        })
    }

    /// The rollup width usable for this query among `widths`, largest first.
    pub fn rollup(&self, widths: &[i64]) -> Option<i64> {
        widths
            .iter()
            .copied()
            .filter(|w| {
                self.bucket.secs() % w == 0 && self.before.timestamp_micros() % (w * 1_000_000) == 0
            })
            .max()
    }
}

/// One bucket's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketValue {
    pub bucket: DateTime<Utc>,
    pub value: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 1, h, m, 0).unwrap()
    }

    fn spec(fill: Fill) -> SeriesSpec {
        SeriesSpec::new(
            vec![Metric::CpuUsageUser],
            HostSelection::All,
            TimeWindow::new(t(0, 0), t(0, 4)).unwrap(),
            BucketWidth::parse("1m").unwrap(),
            Aggregate::Avg,
            false,
            fill,
        )
        .unwrap()
    }

    fn rows() -> Vec<SeriesRow> {
        vec![
            SeriesRow {
                bucket: t(0, 1),
                host: None,
                values: vec![Some(1.0)],
            },
            SeriesRow {
                bucket: t(0, 3),
                host: None,
                values: vec![Some(3.0)],
            },
        ]
    }

    #[test]
    fn windows_must_run_forward_and_buckets_must_divide_a_day() {
        assert!(TimeWindow::new(t(1, 0), t(1, 0)).is_err());
        assert!(TimeWindow::new(t(1, 0), t(0, 0)).is_err());
        assert!(BucketWidth::parse("7m").is_err());
        assert!(BucketWidth::parse("0s").is_err());
        assert!(BucketWidth::parse("2d").is_err());
        assert_eq!(BucketWidth::parse("1d").unwrap().secs(), 86_400);
        assert_eq!(BucketWidth::parse("15m").unwrap().secs(), 900);
    }

    #[test]
    fn too_many_buckets_are_refused() {
        let window = TimeWindow::new(t(0, 0), t(0, 0) + Duration::days(2)).unwrap();
        let err = SeriesSpec::new(
            vec![Metric::CpuUsageUser],
            HostSelection::All,
            window,
            BucketWidth::parse("10s").unwrap(),
            Aggregate::Max,
            false,
            Fill::None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("17280 buckets"), "{err}");
    }

    #[test]
    fn metrics_of_two_measurements_are_refused() {
        let err = SeriesSpec::new(
            vec![Metric::CpuUsageUser, Metric::MemUsed],
            HostSelection::All,
            TimeWindow::new(t(0, 0), t(1, 0)).unwrap(),
            BucketWidth::parse("1m").unwrap(),
            Aggregate::Max,
            false,
            Fill::None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("one measurement"), "{err}");
    }

    #[test]
    fn gap_filling_shows_every_bucket_with_null_or_the_previous_value() {
        let values = |fill| -> Vec<Option<f64>> {
            assemble(&spec(fill), &rows())[0]
                .points
                .iter()
                .map(|p| p.value)
                .collect()
        };
        assert_eq!(values(Fill::None), vec![Some(1.0), Some(3.0)]);
        assert_eq!(values(Fill::Null), vec![None, Some(1.0), None, Some(3.0)]);
        assert_eq!(
            values(Fill::Previous),
            vec![None, Some(1.0), Some(1.0), Some(3.0)]
        );
    }

    #[test]
    fn a_rollup_is_used_only_when_it_tiles_buckets_and_window() {
        let s = spec(Fill::None);
        assert_eq!(s.rollup(&[60, 3600]), Some(60));
        let mut hourly = s.clone();
        hourly.bucket = BucketWidth::parse("1h").unwrap();
        hourly.window = TimeWindow::new(t(0, 0), t(3, 0)).unwrap();
        assert_eq!(hourly.rollup(&[60, 3600]), Some(3600));
        let mut ragged = s.clone();
        ragged.window = TimeWindow::new(t(0, 0) + Duration::seconds(5), t(0, 4)).unwrap();
        assert_eq!(ragged.rollup(&[60, 3600]), None);
    }

    #[test]
    fn spans_read_as_number_and_unit() {
        assert_eq!(parse_span("12h", "last").unwrap(), Duration::hours(12));
        assert!(parse_span("h", "last").is_err());
        assert!(parse_span("5y", "last").is_err());
        assert!(parse_span("-5m", "last").is_err());
    }
}
