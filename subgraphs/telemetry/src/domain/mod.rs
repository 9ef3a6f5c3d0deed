//! Telemetry's domain types: hosts, metrics, readings and queries. Each validates on
//! construction, so a value that reaches the store is well formed; the GraphQL layer turns an
//! [`InvalidInput`] into `BAD_USER_INPUT`.

mod host;
mod metric;
mod query;
mod reading;

pub use host::{
    Host, HostFilter, HostId, HostSelection, HostTags, Hostname, MAX_HOSTS, NewHost, RawTags, Team,
};
pub use metric::{Measurement, Metric};
pub use query::{
    AboveSpec, Aggregate, BucketValue, BucketWidth, Fill, LatestBucketsSpec, MAX_ABOVE,
    MAX_BUCKETS, MAX_LATEST, MAX_POINTS, MAX_WINDOW, Point, ReadingAbove, Series, SeriesRow,
    SeriesSpec, TimeWindow, assemble, parse_span,
};
pub use reading::{
    BatchLimits, IngestReport, InvalidBatch, LastReading, MAX_BULK_ROWS, MAX_CLOCK_SKEW,
    MAX_MUTATION_ROWS, MeasurementRows, RawReading, ReadingBatch, Row, to_millis,
};

/// A value that breaks a domain rule; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidInput {
    pub field: &'static str,
    pub message: String,
}

impl InvalidInput {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}
