//! The output types of readings and series.

use async_graphql::{Context, Object, Result, SimpleObject};

use super::column::Column;
use super::host::{HostNode, load_host};
use super::rfc3339;
use crate::domain::{BucketValue, LastReading, Measurement, Metric, Point, ReadingAbove, Series};

/// One metric's value in a reading.
#[derive(SimpleObject, Clone, Debug)]
pub struct MetricValue {
    pub metric: Metric,
    pub value: f64,
}

/// A host's reading of one measurement at one time.
pub struct ReadingNode(pub LastReading);

#[Object(name = "Reading")]
impl ReadingNode {
    async fn host(&self, ctx: &Context<'_>) -> Result<Option<HostNode>> {
        load_host(ctx, self.0.host).await
    }

    async fn host_id(&self) -> async_graphql::ID {
        async_graphql::ID(self.0.host.to_string())
    }

    async fn measurement(&self) -> Measurement {
        self.0.measurement
    }

    /// RFC 3339, UTC.
    async fn time(&self) -> String {
        rfc3339(self.0.time)
    }

    /// Every metric of the measurement, in column order.
    async fn values(&self) -> Vec<MetricValue> {
        self.0
            .measurement
            .metrics()
            .iter()
            .zip(&self.0.values)
            .map(|(metric, value)| MetricValue {
                metric: *metric,
                value: *value,
            })
            .collect()
    }

    /// The value of one metric of this measurement; null for another measurement's metric.
    async fn value(&self, metric: Metric) -> Option<f64> {
        (metric.measurement() == self.0.measurement)
            .then(|| self.0.values.get(metric.index()).copied())
            .flatten()
    }
}

/// One bucket of a series.
pub struct PointNode(pub Point);

#[Object(name = "Point")]
impl PointNode {
    /// The bucket's start, RFC 3339, UTC.
    async fn time(&self) -> String {
        rfc3339(self.0.time)
    }

    /// Null for a bucket without readings (gap filling `NULL`, or `PREVIOUS` before the first).
    async fn value(&self) -> Option<f64> {
        self.0.value
    }
}

/// One metric's buckets, for one host or for the selected hosts together.
pub struct SeriesNode(pub Series);

#[Object(name = "Series")]
impl SeriesNode {
    /// The host, when the series is per host; null for a series over several hosts.
    async fn host(&self, ctx: &Context<'_>) -> Result<Option<HostNode>> {
        match self.0.host {
            Some(id) => load_host(ctx, id).await,
            None => Ok(None),
        }
    }

    /// The host's id, when the series is per host (without loading the host).
    async fn host_id(&self) -> Option<async_graphql::ID> {
        self.0.host.map(|h| async_graphql::ID(h.to_string()))
    }

    async fn metric(&self) -> Metric {
        self.0.metric
    }

    /// One object per bucket. `times` and `values` carry the same data as two parallel lists,
    /// cheaper to resolve for long series.
    async fn points(&self) -> Vec<PointNode> {
        self.0.points.iter().copied().map(PointNode).collect()
    }

    /// The buckets' starts, RFC 3339, UTC, in order; `values[i]` belongs to `times[i]`.
    async fn times(&self) -> Column<String> {
        Column(self.0.points.iter().map(|p| rfc3339(p.time)).collect())
    }

    /// The buckets' values, in the order of `times`; null for a bucket without readings.
    async fn values(&self) -> Column<Option<f64>> {
        Column(self.0.points.iter().map(|p| p.value).collect())
    }
}

/// A reading above a threshold.
pub struct ReadingAboveNode(pub ReadingAbove);

#[Object(name = "ReadingAbove")]
impl ReadingAboveNode {
    async fn host(&self, ctx: &Context<'_>) -> Result<Option<HostNode>> {
        load_host(ctx, self.0.host).await
    }

    async fn host_id(&self) -> async_graphql::ID {
        async_graphql::ID(self.0.host.to_string())
    }

    async fn time(&self) -> String {
        rfc3339(self.0.time)
    }

    async fn value(&self) -> f64 {
        self.0.value
    }
}

/// One bucket's value over all hosts.
pub struct BucketNode(pub BucketValue);

#[Object(name = "Bucket")]
impl BucketNode {
    /// The bucket's start, RFC 3339, UTC.
    async fn time(&self) -> String {
        rfc3339(self.0.bucket)
    }

    async fn value(&self) -> Option<f64> {
        self.0.value
    }
}
