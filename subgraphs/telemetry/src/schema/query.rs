//! Queries: hosts, and the TSBS devops query types as typed fields — `metricSeries`
//! (single-groupby, cpu-max-all, double-groupby), `hostsAbove` (high-cpu), `lastReadings`
//! (lastpoint), `latestBuckets` (groupby-orderby-limit) — plus the federation entity resolvers
//! for `Host` (by id, by hostname) and `Department`.
//!
//! Non-obvious: paged fields fetch one row more than asked to learn `hasNextPage` without a
//! count.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::Duration;
use polygate_kit::batch::Batcher;
use polygate_kit::{ErrorCode, api_error};

use super::department::DepartmentNode;
use super::host::{HostNode, load_host, series_spec};
use super::inputs::WindowInput;
use super::loaders::HostnameLoader;
use super::readings::{BucketNode, ReadingAboveNode, ReadingNode, SeriesNode};
use super::{bad_input, context, parse_time, store_failed};
use crate::domain::{
    AboveSpec, Aggregate, BucketWidth, Fill, HostFilter, HostId, HostSelection, Hostname,
    InvalidInput, LatestBucketsSpec, Measurement, Metric, SeriesSpec, Team, assemble,
};
use crate::metrics::QueryType;
use crate::store::Edition;

pub struct Query;

/// One page of hosts in id order.
#[derive(SimpleObject)]
pub struct HostPage {
    pub nodes: Vec<HostNode>,
    /// The id of the last node; pass it as `after` for the next page.
    pub end_cursor: Option<ID>,
    pub has_next_page: bool,
}

/// Chunks (TimescaleDB), partitions (PostgreSQL) or 1 (SQLite) of one readings table.
#[derive(SimpleObject)]
pub struct TableChunks {
    pub table: String,
    pub chunks: u64,
}

/// Which store answers.
#[derive(SimpleObject)]
pub struct TelemetryStatus {
    /// `sqlite`, `postgres` or `timescaledb`.
    pub engine: String,
    pub edition: Edition,
    pub tables: Vec<TableChunks>,
}

/// Largest `first` of the host list.
const MAX_PAGE: i32 = 100;

fn selection(ids: Option<Vec<ID>>, field: &'static str) -> Result<HostSelection, InvalidInput> {
    match ids {
        None => Ok(HostSelection::All),
        Some(ids) => {
            let parsed = ids
                .iter()
                .map(|id| {
                    id.parse::<HostId>()
                        .map_err(|_| InvalidInput::new(field, "not a host id"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            HostSelection::only(parsed, field)
        }
    }
}

fn query_type(spec: &SeriesSpec) -> QueryType {
    let all_cpu = spec.metrics.len() == Measurement::Cpu.metrics().len()
        && spec.measurement == Measurement::Cpu;
    if spec.per_host && spec.hosts == HostSelection::All {
        QueryType::DoubleGroupby
    } else if all_cpu && spec.aggregate == Aggregate::Max && !spec.per_host {
        QueryType::CpuMaxAll
    } else {
        QueryType::SingleGroupby
    }
}

#[Object]
impl Query {
    /// A host by `id` or by `hostname` (exactly one of the two); null when none matches.
    async fn host(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        hostname: Option<String>,
    ) -> Result<Option<HostNode>> {
        match (id, hostname) {
            (Some(id), None) => match id.parse::<HostId>() {
                Ok(id) => load_host(ctx, id).await,
                Err(e) => Err(bad_input(e)),
            },
            (None, Some(name)) => {
                let name = Hostname::parse(&name).map_err(bad_input)?;
                load_hostname(ctx, name).await
            }
            _ => Err(api_error(
                ErrorCode::BadUserInput,
                "give exactly one of `id` and `hostname`",
            )),
        }
    }

    /// Hosts in id order, `first` (1 to 100) at a time after the `after` cursor, filtered by
    /// any of `team`, `region` and `service`.
    async fn hosts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
        after: Option<ID>,
        team: Option<String>,
        region: Option<String>,
        service: Option<String>,
    ) -> Result<HostPage> {
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(api_error(
                ErrorCode::BadUserInput,
                format!("first: must be between 1 and {MAX_PAGE}"),
            ));
        }
        let after = after
            .map(|a| a.parse::<HostId>())
            .transpose()
            .map_err(bad_input)?;
        let filter = HostFilter {
            team: team
                .as_deref()
                .map(Team::parse)
                .transpose()
                .map_err(bad_input)?,
            region,
            service,
        };
        let mut hosts = context(ctx)
            .store
            .list_hosts(&filter, first as u32 + 1, after)
            .await
            .map_err(store_failed)?;
        let has_next_page = hosts.len() > first as usize;
        hosts.truncate(first as usize);
        Ok(HostPage {
            end_cursor: hosts.last().map(|h| ID(h.id.to_string())),
            nodes: hosts.into_iter().map(HostNode).collect(),
            has_next_page,
        })
    }

    /// The newest reading of each measurement of every host, or of `hostIds` (TSBS lastpoint),
    /// by host and measurement.
    async fn last_readings(
        &self,
        ctx: &Context<'_>,
        host_ids: Option<Vec<ID>>,
    ) -> Result<Vec<ReadingNode>> {
        let hosts = selection(host_ids, "hostIds").map_err(bad_input)?;
        let mut readings = QueryType::Lastpoint
            .time(context(ctx).store.last_readings(&hosts))
            .await
            .map_err(store_failed)?;
        readings.sort_by_key(|r| (r.host, r.measurement));
        Ok(readings.into_iter().map(ReadingNode).collect())
    }

    /// Buckets of `metrics` (one measurement) over `window`: over the hosts in `hostIds`
    /// together (TSBS single-groupby, cpu-max-all), or one series per host with `perHost`
    /// (double-groupby). `bucket` divides a day (`10s`, `1m`, `5m`, `1h`, …); a window holds at
    /// most 10 000 buckets. `fill` shows empty buckets as null or the previous value.
    #[allow(clippy::too_many_arguments)]
    async fn metric_series(
        &self,
        ctx: &Context<'_>,
        metrics: Vec<Metric>,
        host_ids: Option<Vec<ID>>,
        window: WindowInput,
        #[graphql(default_with = "\"1m\".to_string()")] bucket: String,
        #[graphql(default_with = "Aggregate::Avg")] aggregate: Aggregate,
        #[graphql(default)] per_host: bool,
        #[graphql(default)] fill: Fill,
    ) -> Result<Vec<SeriesNode>> {
        let c = context(ctx);
        let hosts = selection(host_ids, "hostIds").map_err(bad_input)?;
        let spec = series_spec(
            metrics,
            hosts,
            &window,
            &bucket,
            aggregate,
            per_host,
            fill,
            c.clock.now(),
        )
        .map_err(bad_input)?;
        let rows = query_type(&spec)
            .time(c.store.series(&spec))
            .await
            .map_err(store_failed)?;
        Ok(assemble(&spec, &rows).into_iter().map(SeriesNode).collect())
    }

    /// Readings of `metric` above `threshold` in `window` (TSBS high-cpu), of every host or of
    /// `hostIds`, by time, at most `first` (1 to 10 000).
    async fn hosts_above(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Metric::CpuUsageUser")] metric: Metric,
        #[graphql(default = 90.0)] threshold: f64,
        window: WindowInput,
        host_ids: Option<Vec<ID>>,
        #[graphql(default = 1000)] first: i32,
    ) -> Result<Vec<ReadingAboveNode>> {
        let c = context(ctx);
        let hosts = selection(host_ids, "hostIds").map_err(bad_input)?;
        let ten_seconds = BucketWidth::seconds(10).map_err(bad_input)?;
        let window = window
            .parse(c.clock.now(), ten_seconds)
            .map_err(bad_input)?;
        let limit = u32::try_from(first).unwrap_or(0);
        let spec = AboveSpec::new(metric, threshold, hosts, window, limit).map_err(bad_input)?;
        let readings = QueryType::HighCpu
            .time(c.store.readings_above(&spec))
            .await
            .map_err(store_failed)?;
        Ok(readings.into_iter().map(ReadingAboveNode).collect())
    }

    /// The newest `limit` (1 to 1000) buckets of `metric` over all hosts before `before` (RFC
    /// 3339; default: the end of the current bucket), newest first (TSBS
    /// groupby-orderby-limit).
    async fn latest_buckets(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Metric::CpuUsageUser")] metric: Metric,
        before: Option<String>,
        #[graphql(default_with = "\"1m\".to_string()")] bucket: String,
        #[graphql(default_with = "Aggregate::Max")] aggregate: Aggregate,
        #[graphql(default = 5)] limit: i32,
    ) -> Result<Vec<BucketNode>> {
        let c = context(ctx);
        let bucket = BucketWidth::parse(&bucket).map_err(bad_input)?;
        let before = match before {
            Some(text) => parse_time(&text, "before").map_err(bad_input)?,
            None => bucket.floor(c.clock.now()) + Duration::seconds(bucket.secs()),
        };
        let limit = u32::try_from(limit).unwrap_or(0);
        let spec =
            LatestBucketsSpec::new(metric, before, bucket, aggregate, limit).map_err(bad_input)?;
        let buckets = QueryType::GroupbyOrderbyLimit
            .time(c.store.latest_buckets(&spec))
            .await
            .map_err(store_failed)?;
        Ok(buckets.into_iter().map(BucketNode).collect())
    }

    /// Which engine and edition answer, and how the readings tables are chunked.
    async fn telemetry_status(&self, ctx: &Context<'_>) -> Result<TelemetryStatus> {
        let store = &context(ctx).store;
        let tables = store.table_stats().await.map_err(store_failed)?;
        Ok(TelemetryStatus {
            engine: store.engine().to_owned(),
            edition: store.edition(),
            tables: tables
                .into_iter()
                .map(|t| TableChunks {
                    table: t.table,
                    chunks: t.chunks,
                })
                .collect(),
        })
    }

    #[graphql(entity)]
    async fn find_host_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<HostNode>> {
        match id.parse::<HostId>() {
            Ok(id) => load_host(ctx, id).await,
            Err(_) => Ok(None),
        }
    }

    #[graphql(entity)]
    async fn find_host_by_hostname(
        &self,
        ctx: &Context<'_>,
        hostname: String,
    ) -> Result<Option<HostNode>> {
        match Hostname::parse(&hostname) {
            Ok(name) => load_hostname(ctx, name).await,
            Err(_) => Ok(None),
        }
    }

    #[graphql(entity)]
    async fn find_department_by_id(&self, id: ID) -> Option<DepartmentNode> {
        Team::parse(&id).ok().map(DepartmentNode)
    }
}

async fn load_hostname(ctx: &Context<'_>, name: Hostname) -> Result<Option<HostNode>> {
    ctx.data_unchecked::<Batcher<Hostname, HostnameLoader>>()
        .load_one(name)
        .await
        .map(|host| host.map(HostNode))
        .map_err(store_failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_id_lists_are_parsed_and_bounded() {
        assert_eq!(selection(None, "hostIds").unwrap(), HostSelection::All);
        assert!(selection(Some(vec![ID("x".into())]), "hostIds").is_err());
        assert!(selection(Some(vec![]), "hostIds").is_err());
    }
}
