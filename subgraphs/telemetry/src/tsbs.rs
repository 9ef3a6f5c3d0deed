//! The TSBS devops query set, each query both as the GraphQL request a client sends and as the
//! SQL the PostgreSQL adapter runs for it, so the benchmark compares the same work through the
//! GraphQL endpoint and straight on the server (`pgbench -f`).
//!
//! Windows end on a whole hour before the data's end, so minute and hour buckets tile them (the
//! rollup path); hosts are picked by a fixed seed, as TSBS picks them at random.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::domain::{
    AboveSpec, Aggregate, BucketWidth, Fill, HostId, HostSelection, LatestBucketsSpec, Measurement,
    Metric, SeriesSpec, TimeWindow,
};
use crate::store::postgres::{Dialect, queries};

/// How a series query asks for its buckets.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SeriesForm {
    /// `times values`: two lists of scalars (what the set measures).
    Columns,
    /// `points { time value }`: an object per bucket, measured beside it (`NAME-points`).
    Points,
}

/// One query of the set.
pub struct TsbsQuery {
    /// TSBS's name, e.g. `single-groupby-1-8-1`.
    pub name: String,
    /// The GraphQL request body.
    pub graphql: Value,
    /// The adapter's SQL with `$n` parameters.
    pub sql: String,
    /// The parameters, as text PostgreSQL casts (pgbench `-D pN=…`); `None` is SQL NULL.
    pub params: Vec<Option<String>>,
}

fn ids(hosts: &[HostId]) -> Vec<String> {
    hosts.iter().map(|h| h.to_string()).collect()
}

fn array(hosts: &[HostId]) -> String {
    format!("{{{}}}", ids(hosts).join(","))
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `count` hosts out of `all`, picked by a fixed stride.
fn pick(all: &[HostId], count: usize, salt: usize) -> Vec<HostId> {
    let mut out: Vec<HostId> = (0..count)
        .map(|i| all[(salt * 7 + i * 13) % all.len()])
        .collect();
    out.sort();
    out.dedup();
    out
}

#[allow(clippy::too_many_arguments)]
fn series_query(
    name: String,
    dialect: Dialect,
    metrics: &[Metric],
    hosts: Option<Vec<HostId>>,
    window: TimeWindow,
    bucket: &str,
    aggregate: Aggregate,
    per_host: bool,
    form: SeriesForm,
) -> TsbsQuery {
    let selection = hosts
        .clone()
        .map_or(HostSelection::All, HostSelection::Only);
    let spec = SeriesSpec::new(
        metrics.to_vec(),
        selection,
        window,
        BucketWidth::parse(bucket).expect("a valid bucket"),
        aggregate,
        per_host,
        Fill::None,
    )
    .expect("a valid TSBS query");
    let enum_names: Vec<String> = metrics.iter().map(|m| graphql_enum(*m)).collect();
    let buckets = match form {
        SeriesForm::Columns => "times values",
        SeriesForm::Points => "points { time value }",
    };
    let graphql = json!({
        "query": format!(
            "query($h: [ID!], $w: WindowInput!) {{ metricSeries(metrics: [{}], hostIds: $h, window: $w, bucket: \"{bucket}\", aggregate: {}, perHost: {per_host}) {{ hostId metric {buckets} }} }}",
            enum_names.join(", "),
            format!("{aggregate:?}").to_uppercase(),
        ),
        "variables": {"h": hosts.as_deref().map(ids), "w": {"from": time(window.from), "to": time(window.to)}},
    });
    TsbsQuery {
        name,
        graphql,
        sql: queries::series_sql(dialect, &spec),
        params: vec![
            Some(time(window.from)),
            Some(time(window.to)),
            Some(spec.bucket.secs().to_string()),
            Some(array(hosts.as_deref().unwrap_or(&[]))),
            Some((crate::domain::MAX_POINTS + 1).to_string()),
        ],
    }
}

/// `CPU_USAGE_USER` for `Metric::CpuUsageUser`.
pub fn graphql_enum(metric: Metric) -> String {
    let name = format!("{metric:?}");
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Where the windows end: the whole hour before the last one in `end`'s data, so minute and hour
/// buckets tile them (the rollup path).
fn window_end(end: DateTime<Utc>) -> DateTime<Utc> {
    BucketWidth::seconds(3_600).expect("an hour").floor(end) - Duration::hours(1)
}

fn window_before(end: DateTime<Utc>, hours: i64) -> TimeWindow {
    TimeWindow::new(end - Duration::hours(hours), end).expect("a window")
}

/// The series query types (single-groupby, cpu-max-all, double-groupby), asking for `form`.
fn series_queries(
    dialect: Dialect,
    hosts: &[HostId],
    end: DateTime<Utc>,
    form: SeriesForm,
) -> Vec<TsbsQuery> {
    let window = |hours: i64| window_before(end, hours);
    let cpu = Measurement::Cpu.metrics();
    let mut out = Vec::new();
    for (metrics, host_count, hours) in [
        (1, 1, 1),
        (1, 1, 12),
        (1, 8, 1),
        (5, 1, 1),
        (5, 1, 12),
        (5, 8, 1),
    ] {
        out.push(series_query(
            format!("single-groupby-{metrics}-{host_count}-{hours}"),
            dialect,
            &cpu[..metrics],
            Some(pick(hosts, host_count, out.len())),
            window(hours),
            "1m",
            Aggregate::Max,
            false,
            form,
        ));
    }
    for host_count in [1, 8] {
        out.push(series_query(
            format!("cpu-max-all-{host_count}"),
            dialect,
            cpu,
            Some(pick(hosts, host_count, out.len())),
            window(8),
            "1h",
            Aggregate::Max,
            false,
            form,
        ));
    }
    for (label, metrics) in [("1", 1), ("5", 5), ("all", 10)] {
        out.push(series_query(
            format!("double-groupby-{label}"),
            dialect,
            &cpu[..metrics],
            None,
            window(12),
            "1h",
            Aggregate::Avg,
            true,
            form,
        ));
    }
    out
}

/// Every TSBS devops query type over `hosts`, with data up to `end`.
pub fn queries(dialect: Dialect, hosts: &[HostId], end: DateTime<Utc>) -> Vec<TsbsQuery> {
    let end = window_end(end);
    let window = |hours: i64| window_before(end, hours);
    let mut out = series_queries(dialect, hosts, end, SeriesForm::Columns);
    for (label, selected) in [("1", Some(pick(hosts, 1, 99))), ("all", None)] {
        let selection = selected
            .clone()
            .map_or(HostSelection::All, HostSelection::Only);
        let spec = AboveSpec::new(Metric::CpuUsageUser, 90.0, selection, window(12), 10_000)
            .expect("a valid high-cpu query");
        out.push(TsbsQuery {
            name: format!("high-cpu-{label}"),
            graphql: json!({
                "query": "query($h: [ID!], $w: WindowInput!) { hostsAbove(metric: CPU_USAGE_USER, threshold: 90, window: $w, hostIds: $h, first: 10000) { hostId time value } }",
                "variables": {"h": selected.as_deref().map(ids), "w": {"from": time(spec.window.from), "to": time(spec.window.to)}},
            }),
            sql: queries::above_sql(&spec),
            params: vec![
                Some(time(spec.window.from)),
                Some(time(spec.window.to)),
                Some("90".into()),
                Some(array(selected.as_deref().unwrap_or(&[]))),
                Some("10000".into()),
            ],
        });
    }
    out.push(TsbsQuery {
        name: "lastpoint".into(),
        graphql: json!({"query": "{ lastReadings { hostId measurement time values { value } } }"}),
        sql: queries::last_readings_sql(),
        params: vec![None],
    });
    let spec = LatestBucketsSpec::new(
        Metric::CpuUsageUser,
        end,
        BucketWidth::parse("1m").expect("a minute"),
        Aggregate::Max,
        5,
    )
    .expect("a valid groupby-orderby-limit query");
    out.push(TsbsQuery {
        name: "groupby-orderby-limit".into(),
        graphql: json!({
            "query": format!("{{ latestBuckets(metric: CPU_USAGE_USER, before: \"{}\", bucket: \"1m\", aggregate: MAX, limit: 5) {{ time value }} }}", time(end)),
        }),
        sql: queries::latest_sql(dialect, &spec),
        params: vec![Some(time(end)), Some("60".into()), Some("5".into())],
    });
    out
}

/// The series queries again, asking for `points { time value }` instead of `times values`,
/// named `NAME-points`: measured beside the set, they show what an object per bucket costs.
pub fn points_variants(dialect: Dialect, hosts: &[HostId], end: DateTime<Utc>) -> Vec<TsbsQuery> {
    series_queries(dialect, hosts, window_end(end), SeriesForm::Points)
        .into_iter()
        .map(|q| TsbsQuery {
            name: format!("{}-points", q.name),
            ..q
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Edition;

    #[test]
    fn metric_enum_names_are_screaming_snake_case() {
        assert_eq!(
            graphql_enum(Metric::CpuUsageGuestNice),
            "CPU_USAGE_GUEST_NICE"
        );
        assert_eq!(graphql_enum(Metric::MemUsedPercent), "MEM_USED_PERCENT");
    }

    #[test]
    fn the_set_covers_every_tsbs_devops_query_type() {
        let hosts: Vec<HostId> = (1..=100).map(|i| HostId::new(i).unwrap()).collect();
        let end = chrono::TimeZone::with_ymd_and_hms(&Utc, 2024, 3, 4, 0, 0, 0).unwrap();
        let names: Vec<String> = queries(Dialect(Edition::TimescaleApache), &hosts, end)
            .into_iter()
            .map(|q| q.name)
            .collect();
        for prefix in [
            "single-groupby",
            "cpu-max-all",
            "double-groupby",
            "high-cpu",
            "lastpoint",
            "groupby-orderby-limit",
        ] {
            assert!(
                names.iter().any(|n| n.starts_with(prefix)),
                "{prefix}: {names:?}"
            );
        }
        assert_eq!(names.len(), 15);
    }

    #[test]
    fn the_set_asks_for_columns_and_its_points_variants_for_the_same_series_as_objects() {
        let hosts: Vec<HostId> = (1..=100).map(|i| HostId::new(i).unwrap()).collect();
        let end = chrono::TimeZone::with_ymd_and_hms(&Utc, 2024, 3, 4, 0, 0, 0).unwrap();
        let dialect = Dialect(Edition::TimescaleApache);
        let set = queries(dialect, &hosts, end);
        let variants = points_variants(dialect, &hosts, end);
        assert_eq!(variants.len(), 11, "one per series query");
        for variant in &variants {
            let base = variant
                .name
                .strip_suffix("-points")
                .expect("named NAME-points");
            let original = set
                .iter()
                .find(|q| q.name == base)
                .expect("a query of the set");
            assert_eq!(variant.sql, original.sql, "{base}: the same SQL");
            assert_eq!(
                variant.params, original.params,
                "{base}: the same parameters"
            );
            assert_eq!(variant.graphql["variables"], original.graphql["variables"]);
            let (ours, theirs) = (
                variant.graphql["query"].as_str().unwrap(),
                original.graphql["query"].as_str().unwrap(),
            );
            assert!(ours.contains("points { time value }"), "{ours}");
            assert!(
                theirs.contains("times values") && !theirs.contains("points"),
                "{theirs}"
            );
        }
    }
}
