//! The `Host` entity (keys `id` and `hostname`): its tags, its owning department, its newest
//! readings and its series, each loaded in batches.

use async_graphql::{Context, ID, Object, Result};
use polygate_kit::batch::Batcher;

use super::department::DepartmentNode;
use super::inputs::WindowInput;
use super::loaders::{HostLoader, HostSeriesKey, HostSeriesLoader, LastReadingsLoader};
use super::readings::{ReadingNode, SeriesNode};
use super::{bad_input, context, store_failed};
use crate::domain::{
    Aggregate, BucketWidth, Fill, Host, HostId, HostSelection, InvalidInput, Metric, SeriesSpec,
};

/// A host as GraphQL shows it.
pub struct HostNode(pub Host);

#[Object(name = "Host")]
impl HostNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn hostname(&self) -> &str {
        self.0.hostname.as_str()
    }

    async fn region(&self) -> &str {
        &self.0.tags.region
    }

    async fn datacenter(&self) -> &str {
        &self.0.tags.datacenter
    }

    async fn rack(&self) -> &str {
        &self.0.tags.rack
    }

    async fn os(&self) -> &str {
        &self.0.tags.os
    }

    async fn arch(&self) -> &str {
        &self.0.tags.arch
    }

    /// The owning org department's slug id (`platform`, `data`, …).
    async fn team(&self) -> &str {
        self.0.tags.team.as_str()
    }

    async fn service(&self) -> &str {
        &self.0.tags.service
    }

    async fn service_version(&self) -> &str {
        &self.0.tags.service_version
    }

    async fn environment(&self) -> &str {
        &self.0.tags.environment
    }

    /// The org department that owns this host (resolved by the org subgraph).
    async fn owner_department(&self) -> DepartmentNode {
        DepartmentNode(self.0.tags.team.clone())
    }

    /// The newest reading of each measurement (TSBS lastpoint); the hosts of a list share one
    /// store call.
    async fn last_readings(&self, ctx: &Context<'_>) -> Result<Vec<ReadingNode>> {
        let readings = ctx
            .data_unchecked::<Batcher<HostId, LastReadingsLoader>>()
            .load_one(self.0.id)
            .await
            .map_err(store_failed)?
            .unwrap_or_default();
        Ok(readings.into_iter().map(ReadingNode).collect())
    }

    /// This host's buckets of `metrics` (one measurement) over `window`; the hosts of a list
    /// asking the same series share one store call.
    async fn series(
        &self,
        ctx: &Context<'_>,
        metrics: Vec<Metric>,
        window: WindowInput,
        #[graphql(default_with = "\"1m\".to_string()")] bucket: String,
        #[graphql(default_with = "Aggregate::Avg")] aggregate: Aggregate,
        #[graphql(default)] fill: Fill,
    ) -> Result<Vec<SeriesNode>> {
        let c = context(ctx);
        let spec = series_spec(
            metrics,
            HostSelection::All,
            &window,
            &bucket,
            aggregate,
            true,
            fill,
            c.clock.now(),
        )
        .map_err(bad_input)?;
        let key = HostSeriesKey {
            spec,
            host: self.0.id,
        };
        let series = ctx
            .data_unchecked::<Batcher<HostSeriesKey, HostSeriesLoader>>()
            .load_one(key)
            .await
            .map_err(store_failed)?
            .unwrap_or_default();
        Ok(series.into_iter().map(SeriesNode).collect())
    }
}

/// A series spec from GraphQL arguments at `now`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn series_spec(
    metrics: Vec<Metric>,
    hosts: HostSelection,
    window: &WindowInput,
    bucket: &str,
    aggregate: Aggregate,
    per_host: bool,
    fill: Fill,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<SeriesSpec, InvalidInput> {
    let bucket = BucketWidth::parse(bucket)?;
    let window = window.parse(now, bucket)?;
    SeriesSpec::new(metrics, hosts, window, bucket, aggregate, per_host, fill)
}

/// The host with `id` through the request's batch loader.
pub(crate) async fn load_host(ctx: &Context<'_>, id: HostId) -> Result<Option<HostNode>> {
    ctx.data_unchecked::<Batcher<HostId, HostLoader>>()
        .load_one(id)
        .await
        .map(|host| host.map(HostNode))
        .map_err(store_failed)
}
