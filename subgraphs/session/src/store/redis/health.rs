//! Redis's own health on `/metrics`, beside the store's client timings: a background task reads
//! `INFO` (and `CLUSTER INFO` on a cluster) from every node each interval and exports it as
//! `polygate_session_redis_*{node="host:port"}` on the process's registry.
//!
//! What is exported, per node: `up`, `master`; memory (`used_memory_bytes`, `maxmemory_bytes`,
//! `memory_used_ratio`, `maxmemory_policy{policy}`); load (`connected_clients`,
//! `ops_per_second`, `commands_processed_total`); keys (`keys`, `keys_with_ttl`,
//! `evicted_keys_total`, `expired_keys_total`, `keyspace_hits_total`, `keyspace_misses_total`,
//! `keyspace_hit_ratio`); replication (on masters `connected_replicas` and
//! `replica_lag_bytes{replica}` / `replica_lag_seconds{replica}`, on replicas `master_link_up`
//! and `master_last_io_seconds`); cluster (`cluster_state_ok`, `cluster_slots_ok`,
//! `cluster_slots_failing`, `cluster_known_nodes`). The `_total` series are Prometheus counters
//! that follow Redis's own (they move by what Redis's moved since the last read; a node restart
//! counts from its new value), so `rate()` works across restarts.
//!
//! Non-obvious decision: each node is read over a plain connection of its own, the node list
//! re-read with `CLUSTER NODES` every round, not through the store's cluster client. A fan-out
//! through the client fails as a whole when one node is down, which is when the others' figures
//! matter most, and the client never talks to replicas, whose link and lag are what a failover
//! depends on. A node that does not answer shows `up 0` and no other series (no stale figures);
//! a node the cluster forgot loses its series.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;

use futures::future::join_all;
use prometheus::{GaugeVec, IntCounterVec, register_gauge_vec, register_int_counter_vec};
use redis::aio::MultiplexedConnection;
use redis::{
    AsyncConnectionConfig, Client, ConnectionInfo, IntoConnectionInfo, RedisConnectionInfo,
};

use super::RedisOptions;
use super::info::{Info, cluster_nodes};
use crate::store::StoreError;

/// How often the task reads every node when the configuration says nothing. CloudWatch's
/// ElastiCache metrics have one-minute resolution; four reads a minute cost each node four
/// `INFO` calls (tens of microseconds each).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);
/// Bound on connecting to one node and on each of its replies.
const NODE_TIMEOUT: Duration = Duration::from_secs(2);
const PREFIX: &str = "polygate_session_redis_";

struct Spec {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
}

const fn spec(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Spec {
    Spec { name, help, labels }
}

const NODE: &[&str] = &["node"];

const GAUGES: &[Spec] = &[
    spec("up", "1 when the node answered the last health read", NODE),
    spec("master", "1 for a master, 0 for a replica", NODE),
    spec(
        "used_memory_bytes",
        "Memory Redis has allocated (INFO used_memory)",
        NODE,
    ),
    spec("maxmemory_bytes", "The memory limit (0 = none)", NODE),
    spec(
        "memory_used_ratio",
        "used_memory / maxmemory (absent without a limit)",
        NODE,
    ),
    spec(
        "maxmemory_policy",
        "1, labelled with the eviction policy",
        &["node", "policy"],
    ),
    spec("connected_clients", "Client connections", NODE),
    spec(
        "ops_per_second",
        "Commands per second (INFO instantaneous_ops_per_sec)",
        NODE,
    ),
    spec(
        "keyspace_hit_ratio",
        "Key look-ups that found the key, since the node started",
        NODE,
    ),
    spec("keys", "Keys in every database", NODE),
    spec(
        "keys_with_ttl",
        "Keys with a TTL (the only ones volatile-* policies evict)",
        NODE,
    ),
    spec(
        "connected_replicas",
        "Replicas attached to this master",
        NODE,
    ),
    spec(
        "replica_lag_bytes",
        "Replication stream this replica has not acknowledged",
        &["node", "replica"],
    ),
    spec(
        "replica_lag_seconds",
        "Seconds since this replica last acknowledged",
        &["node", "replica"],
    ),
    spec(
        "master_link_up",
        "On a replica: 1 while its link to the master is up",
        NODE,
    ),
    spec(
        "master_last_io_seconds",
        "On a replica: seconds since it last heard from its master",
        NODE,
    ),
    spec(
        "cluster_state_ok",
        "1 while this node says cluster_state:ok",
        NODE,
    ),
    spec("cluster_slots_ok", "Slots this node sees served", NODE),
    spec(
        "cluster_slots_failing",
        "Slots this node sees in PFAIL or FAIL",
        NODE,
    ),
    spec("cluster_known_nodes", "Nodes this node knows", NODE),
];

/// Counters following Redis's own, and the `INFO` field each follows.
const COUNTERS: &[(Spec, &str)] = &[
    (
        spec("evicted_keys_total", "Keys evicted for maxmemory", NODE),
        "evicted_keys",
    ),
    (
        spec(
            "expired_keys_total",
            "Keys deleted because their TTL passed",
            NODE,
        ),
        "expired_keys",
    ),
    (
        spec(
            "keyspace_hits_total",
            "Key look-ups that found the key",
            NODE,
        ),
        "keyspace_hits",
    ),
    (
        spec("keyspace_misses_total", "Key look-ups that did not", NODE),
        "keyspace_misses",
    ),
    (
        spec(
            "commands_processed_total",
            "Commands the node processed",
            NODE,
        ),
        "total_commands_processed",
    ),
];

static GAUGE_VECS: LazyLock<HashMap<&'static str, GaugeVec>> = LazyLock::new(|| {
    GAUGES
        .iter()
        .map(|s| {
            let vec = register_gauge_vec!(format!("{PREFIX}{}", s.name), s.help, s.labels)
                .expect("metric registers once");
            (s.name, vec)
        })
        .collect()
});

static COUNTER_VECS: LazyLock<HashMap<&'static str, IntCounterVec>> = LazyLock::new(|| {
    COUNTERS
        .iter()
        .map(|(s, _)| {
            let vec = register_int_counter_vec!(format!("{PREFIX}{}", s.name), s.help, s.labels)
                .expect("metric registers once");
            (s.name, vec)
        })
        .collect()
});

/// One series and its value for this round.
type SeriesKey = (&'static str, Vec<String>);

/// What one round saw of one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeHealth {
    /// `host:port`, the `node` label.
    pub node: String,
    pub up: bool,
    /// `None` when the node did not answer.
    pub master: Option<bool>,
}

enum Topology {
    Standalone(ConnectionInfo),
    /// Seed nodes, the credentials every node takes, and whether nodes speak TLS.
    Cluster {
        seeds: Vec<String>,
        settings: RedisConnectionInfo,
        tls: bool,
    },
}

/// Reads every node of one Redis and exports what it read (see the module doc).
pub struct RedisHealth {
    topology: Topology,
    options: RedisOptions,
    conns: HashMap<String, MultiplexedConnection>,
    /// Nodes of the last cluster view, asked first for the next one.
    known: Vec<String>,
    /// Series set last round, removed when not set again.
    exported: HashSet<SeriesKey>,
    /// Redis's counter values at the last read, to move ours by the difference.
    counted: HashMap<SeriesKey, u64>,
}

/// The health task for the session store at `store_url`, reading every `every`: `None` for the
/// in-process store (nothing to watch). Fails only on a URL that is not a Redis one. Starts even
/// when Redis is down (it then reports `up 0`).
pub fn task(
    store_url: &str,
    every: Duration,
    options: &RedisOptions,
) -> Result<Option<impl Future<Output = ()> + Send + 'static>, StoreError> {
    if store_url.trim() == "memory" {
        return Ok(None);
    }
    Ok(Some(
        RedisHealth::with_options(store_url, options.clone())?.run(every),
    ))
}

impl RedisHealth {
    /// For `redis://…` or `redis-cluster://[user:password@]host:port,…` (or their TLS forms
    /// `rediss://`, `rediss-cluster://`); connects lazily.
    pub fn new(store_url: &str) -> Result<Self, StoreError> {
        Self::with_options(store_url, RedisOptions::default())
    }

    /// [`new`](Self::new) with the store's connection `options` (the CA for TLS).
    pub fn with_options(store_url: &str, options: RedisOptions) -> Result<Self, StoreError> {
        let url = store_url.trim();
        let topology = match polygate_kit::redis::cluster_seeds(url) {
            Some((seeds, credentials, tls)) => {
                let mut settings = RedisConnectionInfo::default();
                if let Some(credentials) = credentials {
                    let (user, password) = credentials.split_once(':').unwrap_or(("", credentials));
                    if !user.is_empty() {
                        settings = settings.set_username(user);
                    }
                    settings = settings.set_password(password);
                }
                if seeds.is_empty() {
                    return Err(invalid("a Redis Cluster URL names at least one host:port"));
                }
                Topology::Cluster {
                    seeds,
                    settings,
                    tls,
                }
            }
            None => Topology::Standalone(
                url.into_connection_info()
                    .map_err(|e| invalid(&format!("invalid Redis URL: {e}")))?,
            ),
        };
        Ok(Self {
            topology,
            options,
            conns: HashMap::new(),
            known: Vec::new(),
            exported: HashSet::new(),
            counted: HashMap::new(),
        })
    }

    /// Reads every node every `every`, forever.
    pub async fn run(mut self, every: Duration) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut down: HashSet<String> = HashSet::new();
        loop {
            ticks.tick().await;
            for node in self.poll().await {
                if !node.up && down.insert(node.node.clone()) {
                    tracing::warn!(node = %node.node, "Redis node does not answer the health read");
                } else if node.up && down.remove(&node.node) {
                    tracing::info!(node = %node.node, "Redis node answers the health read again");
                }
            }
        }
    }

    /// One round: reads every node, updates the metrics, and says what it saw.
    pub async fn poll(&mut self) -> Vec<NodeHealth> {
        let cluster = matches!(self.topology, Topology::Cluster { .. });
        let nodes = self.nodes().await;
        let reads = nodes.iter().map(|node| {
            let conn = self.conns.get(node).cloned();
            let client = self.client(node);
            async move { read_node(conn, client, cluster).await }
        });
        let results = join_all(reads).await;
        let mut report = Vec::with_capacity(nodes.len());
        let mut series: Vec<(SeriesKey, f64)> = Vec::new();
        for (node, result) in nodes.into_iter().zip(results) {
            match result {
                Ok((conn, info, cluster_info)) => {
                    self.conns.insert(node.clone(), conn);
                    report.push(NodeHealth {
                        node: node.clone(),
                        up: true,
                        master: info.get("role").map(|r| r == "master"),
                    });
                    series.extend(node_series(&node, &info, cluster_info.as_ref()));
                }
                Err(e) => {
                    tracing::debug!(node = %node, error = %e, "Redis health read failed");
                    self.conns.remove(&node);
                    report.push(NodeHealth {
                        node: node.clone(),
                        up: false,
                        master: None,
                    });
                    series.push((("up", vec![node]), 0.0));
                }
            }
        }
        self.export(series);
        report
    }

    /// The nodes to read: the standalone server, or the cluster's view from the first node that
    /// answers `CLUSTER NODES` (last round's nodes first, then the seeds). With no answer, last
    /// round's nodes (or the seeds), so they report down.
    async fn nodes(&mut self) -> Vec<String> {
        let Topology::Cluster { seeds, .. } = &self.topology else {
            let Topology::Standalone(info) = &self.topology else {
                unreachable!("not a cluster");
            };
            return vec![info.addr().to_string()];
        };
        let mut asked = HashSet::new();
        let candidates: Vec<String> = self.known.iter().chain(seeds).cloned().collect();
        for addr in candidates {
            if !asked.insert(addr.clone()) {
                continue;
            }
            let conn = self.conns.get(&addr).cloned();
            let Ok((conn, text)) = cluster_view(conn, self.client(&addr)).await else {
                self.conns.remove(&addr);
                continue;
            };
            self.conns.insert(addr, conn);
            let nodes: Vec<String> = cluster_nodes(&text).into_iter().map(|n| n.addr).collect();
            if !nodes.is_empty() {
                self.known.clone_from(&nodes);
                return nodes;
            }
        }
        if self.known.is_empty() {
            seeds.clone()
        } else {
            self.known.clone()
        }
    }

    /// A client for one node (over TLS when the store URL says so) and its connection settings.
    fn client(&self, node: &str) -> redis::RedisResult<(Client, AsyncConnectionConfig)> {
        let info = match &self.topology {
            Topology::Standalone(info) => info.clone(),
            Topology::Cluster { settings, tls, .. } => {
                let scheme = if *tls { "rediss" } else { "redis" };
                format!("{scheme}://{node}")
                    .into_connection_info()?
                    .set_redis_settings(settings.clone())
            }
        };
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(NODE_TIMEOUT))
            .set_response_timeout(Some(NODE_TIMEOUT));
        Ok((self.options.client(info)?, self.options.connection(config)))
    }

    /// Sets this round's series, moves the counters, and removes the series not set again.
    fn export(&mut self, series: Vec<(SeriesKey, f64)>) {
        let mut now = HashSet::with_capacity(series.len());
        for ((name, labels), value) in series {
            let values: Vec<&str> = labels.iter().map(String::as_str).collect();
            if let Some(gauge) = GAUGE_VECS.get(name) {
                gauge.with_label_values(&values).set(value);
            } else if let Some(counter) = COUNTER_VECS.get(name) {
                let reading = value as u64;
                let previous = self.counted.insert((name, labels.clone()), reading);
                let moved = match previous {
                    Some(before) if reading >= before => reading - before,
                    _ => reading, // first read, or the node restarted and counts anew
                };
                counter.with_label_values(&values).inc_by(moved);
            }
            now.insert((name, labels));
        }
        for (name, labels) in self.exported.difference(&now) {
            let values: Vec<&str> = labels.iter().map(String::as_str).collect();
            if let Some(gauge) = GAUGE_VECS.get(name) {
                let _ = gauge.remove_label_values(&values);
            } else if let Some(counter) = COUNTER_VECS.get(name) {
                let _ = counter.remove_label_values(&values);
                self.counted.remove(&(*name, labels.clone()));
            }
        }
        self.exported = now;
    }
}

fn invalid(message: &str) -> StoreError {
    StoreError::InvalidInput(message.to_owned())
}

async fn connect(
    conn: Option<MultiplexedConnection>,
    client: redis::RedisResult<(Client, AsyncConnectionConfig)>,
) -> redis::RedisResult<MultiplexedConnection> {
    if let Some(conn) = conn {
        return Ok(conn);
    }
    let (client, config) = client?;
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

async fn cluster_view(
    conn: Option<MultiplexedConnection>,
    client: redis::RedisResult<(Client, AsyncConnectionConfig)>,
) -> redis::RedisResult<(MultiplexedConnection, String)> {
    let mut conn = connect(conn, client).await?;
    let text: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query_async(&mut conn)
        .await?;
    Ok((conn, text))
}

/// `INFO`, and `CLUSTER INFO` on a cluster, of one node.
async fn read_node(
    conn: Option<MultiplexedConnection>,
    client: redis::RedisResult<(Client, AsyncConnectionConfig)>,
    cluster: bool,
) -> redis::RedisResult<(MultiplexedConnection, Info, Option<Info>)> {
    let mut conn = connect(conn, client).await?;
    let text: String = redis::cmd("INFO").query_async(&mut conn).await?;
    let cluster_info = if cluster {
        let text: String = redis::cmd("CLUSTER")
            .arg("INFO")
            .query_async(&mut conn)
            .await?;
        Some(Info::parse(&text))
    } else {
        None
    };
    Ok((conn, Info::parse(&text), cluster_info))
}

/// Every series one answering node yields.
fn node_series(node: &str, info: &Info, cluster: Option<&Info>) -> Vec<(SeriesKey, f64)> {
    let mut out: Vec<(SeriesKey, f64)> = Vec::new();
    let mut put = |name: &'static str, extra: Option<&str>, value: Option<f64>| {
        if let Some(value) = value {
            let mut labels = vec![node.to_owned()];
            labels.extend(extra.map(str::to_owned));
            out.push(((name, labels), value));
        }
    };
    let flag = |b: bool| Some(if b { 1.0 } else { 0.0 });
    put("up", None, Some(1.0));
    put(
        "master",
        None,
        info.get("role").and_then(|r| flag(r == "master")),
    );
    put("used_memory_bytes", None, info.num("used_memory"));
    let max = info.num("maxmemory");
    put("maxmemory_bytes", None, max);
    let ratio = match (info.num("used_memory"), max) {
        (Some(used), Some(max)) if max > 0.0 => Some(used / max),
        _ => None,
    };
    put("memory_used_ratio", None, ratio);
    put(
        "maxmemory_policy",
        info.get("maxmemory_policy"),
        info.get("maxmemory_policy").map(|_| 1.0),
    );
    put("connected_clients", None, info.num("connected_clients"));
    put(
        "ops_per_second",
        None,
        info.num("instantaneous_ops_per_sec"),
    );
    put("keyspace_hit_ratio", None, info.hit_ratio());
    let (keys, with_ttl) = info.keys();
    put("keys", None, Some(keys));
    put("keys_with_ttl", None, Some(with_ttl));
    for (spec, field) in COUNTERS {
        put(spec.name, None, info.num(field));
    }
    match info.get("role") {
        Some("master") => {
            put("connected_replicas", None, info.num("connected_slaves"));
            for replica in info.replicas() {
                put(
                    "replica_lag_bytes",
                    Some(&replica.addr),
                    Some(replica.lag_bytes),
                );
                put(
                    "replica_lag_seconds",
                    Some(&replica.addr),
                    replica.lag_seconds,
                );
            }
        }
        Some("slave") => {
            put(
                "master_link_up",
                None,
                flag(info.get("master_link_status") == Some("up")),
            );
            put(
                "master_last_io_seconds",
                None,
                info.num("master_last_io_seconds_ago"),
            );
        }
        _ => {}
    }
    if let Some(cluster) = cluster {
        put(
            "cluster_state_ok",
            None,
            flag(cluster.get("cluster_state") == Some("ok")),
        );
        put("cluster_slots_ok", None, cluster.num("cluster_slots_ok"));
        let failing = cluster.num("cluster_slots_pfail").unwrap_or(0.0)
            + cluster.num("cluster_slots_fail").unwrap_or(0.0);
        put("cluster_slots_failing", None, Some(failing));
        put(
            "cluster_known_nodes",
            None,
            cluster.num("cluster_known_nodes"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_is_a_background_task_the_kit_can_spawn() {
        let task = task(
            "redis://127.0.0.1:1",
            DEFAULT_INTERVAL,
            &RedisOptions::default(),
        )
        .unwrap()
        .unwrap();
        let _ = polygate_kit::BackgroundTask::new("session/redis-health", task);
    }

    #[test]
    fn only_redis_urls_get_a_monitor() {
        assert!(
            task("memory", DEFAULT_INTERVAL, &RedisOptions::default())
                .unwrap()
                .is_none()
        );
        assert!(
            task(
                "redis://127.0.0.1:6379",
                DEFAULT_INTERVAL,
                &RedisOptions::default()
            )
            .unwrap()
            .is_some()
        );
        assert!(
            task(
                "redis-cluster://a:1,b:2",
                DEFAULT_INTERVAL,
                &RedisOptions::default()
            )
            .unwrap()
            .is_some()
        );
        assert!(
            task(
                "redis-cluster:// ,",
                DEFAULT_INTERVAL,
                &RedisOptions::default()
            )
            .is_err()
        );
        assert!(task("postgres://x", DEFAULT_INTERVAL, &RedisOptions::default()).is_err());
    }

    fn exported(name: &str, node: &str) -> Option<f64> {
        let start = format!("{PREFIX}{name}{{node=\"{node}\"}} ");
        polygate_kit::metrics::render()
            .lines()
            .find_map(|line| line.strip_prefix(&start)?.parse().ok())
    }

    #[test]
    fn counters_follow_redis_across_a_restart_and_vanished_series_go() {
        let mut health = RedisHealth::new("redis://127.0.0.1:1").unwrap();
        let node = "gone.example:6379";
        let read = |evicted: u64| {
            let text = format!("role:master\r\nused_memory:10\r\nevicted_keys:{evicted}\r\n");
            node_series(node, &Info::parse(&text), None)
        };
        health.export(read(5));
        assert_eq!(exported("evicted_keys_total", node), Some(5.0));
        health.export(read(7));
        assert_eq!(exported("evicted_keys_total", node), Some(7.0));
        health.export(read(2)); // the node restarted: 2 new evictions
        assert_eq!(exported("evicted_keys_total", node), Some(9.0));
        assert_eq!(exported("used_memory_bytes", node), Some(10.0));
        health.export(Vec::new());
        assert_eq!(exported("evicted_keys_total", node), None);
        assert_eq!(exported("used_memory_bytes", node), None);
    }

    #[test]
    fn a_replica_reports_its_link_and_a_master_its_replicas() {
        let replica = Info::parse(
            "role:slave\r\nmaster_link_status:down\r\nmaster_last_io_seconds_ago:-1\r\n",
        );
        let names: Vec<&str> = node_series("r:1", &replica, None)
            .iter()
            .map(|((name, _), _)| *name)
            .collect();
        assert!(names.contains(&"master_link_up"));
        assert!(!names.contains(&"connected_replicas"));
        let link = node_series("r:1", &replica, None)
            .into_iter()
            .find(|((name, _), _)| *name == "master_link_up")
            .map(|(_, v)| v);
        assert_eq!(link, Some(0.0));
        assert!(!names.contains(&"memory_used_ratio"), "no limit, no ratio");
    }
}
