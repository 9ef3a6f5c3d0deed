//! What every Redis-backed store shares: one connection type for standalone Redis and Redis
//! Cluster, and the `redis-cluster://` URL form that picks the cluster (`rediss-cluster://` for
//! one that speaks TLS, as ElastiCache with encryption in transit does).

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};

/// URL scheme of a Redis Cluster: `redis-cluster://[user:password@]host:port,host:port,…`.
pub const CLUSTER_SCHEME: &str = "redis-cluster://";
/// URL scheme of a Redis Cluster reached over TLS: every seed and every node discovered from
/// them is connected with TLS (`rediss://`), verified against the client's trusted roots.
pub const CLUSTER_TLS_SCHEME: &str = "rediss-cluster://";

/// Whether `url` names a Redis Cluster (plain or TLS).
pub fn is_cluster_url(url: &str) -> bool {
    url.starts_with(CLUSTER_SCHEME) || url.starts_with(CLUSTER_TLS_SCHEME)
}

/// The seed nodes (`host:port`), the credentials (`user:password`, if any) and whether TLS is
/// on, of a `redis-cluster://` or `rediss-cluster://` URL; `None` for any other URL.
pub fn cluster_seeds(url: &str) -> Option<(Vec<String>, Option<&str>, bool)> {
    let (nodes, tls) = match url.strip_prefix(CLUSTER_TLS_SCHEME) {
        Some(nodes) => (nodes, true),
        None => (url.strip_prefix(CLUSTER_SCHEME)?, false),
    };
    let (credentials, hosts) = match nodes.rsplit_once('@') {
        Some((credentials, hosts)) => (Some(credentials), hosts),
        None => (None, nodes),
    };
    let seeds = hosts
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
        .collect();
    Some((seeds, credentials, tls))
}

/// The one thing standalone and cluster differ in. Both are cheap to clone (multiplexed).
#[derive(Clone)]
pub enum Connection {
    /// A standalone Redis (or a primary endpoint), reconnecting by itself.
    Standalone(ConnectionManager),
    /// A Redis Cluster: routes each command by its key's slot, follows MOVED/ASK and refreshes
    /// the slot map after a failover.
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Standalone(c) => c.req_packed_command(cmd),
            Connection::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Standalone(c) => c.req_packed_commands(pipeline, offset, count),
            Connection::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Standalone(c) => c.get_db(),
            Connection::Cluster(c) => c.get_db(),
        }
    }
}

/// For a `redis-cluster://` URL, a cluster client builder with its seed nodes and credentials
/// (the caller adds timeouts and retries); `None` for any other URL. The nodes are seeds: the
/// client discovers the rest.
pub fn cluster_builder(url: &str) -> Option<Result<ClusterClientBuilder, String>> {
    let (hosts, credentials, tls) = cluster_seeds(url)?;
    let scheme = if tls { "rediss" } else { "redis" };
    let seeds: Vec<String> = hosts.iter().map(|h| format!("{scheme}://{h}")).collect();
    if seeds.is_empty() {
        return Some(Err(
            "a Redis Cluster URL names at least one host:port".to_owned()
        ));
    }
    let mut builder = ClusterClient::builder(seeds);
    if let Some(credentials) = credentials {
        let (user, password) = credentials.split_once(':').unwrap_or(("", credentials));
        if !user.is_empty() {
            builder = builder.username(user);
        }
        builder = builder.password(password);
    }
    Some(Ok(builder))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_cluster_url_with_a_node_gives_a_builder() {
        assert!(cluster_builder("redis://127.0.0.1:6379").is_none());
        assert!(matches!(
            cluster_builder("redis-cluster:// , "),
            Some(Err(_))
        ));
        let builder = cluster_builder("redis-cluster://u:p@127.0.0.1:7000,127.0.0.1:7001");
        assert!(builder.unwrap().unwrap().build().is_ok());
    }

    #[test]
    fn a_tls_cluster_url_gives_tls_seeds_with_their_credentials() {
        let (seeds, credentials, tls) =
            cluster_seeds("rediss-cluster://u:p@cache-1:6379, cache-2:6379").unwrap();
        assert_eq!(seeds, ["cache-1:6379", "cache-2:6379"]);
        assert_eq!(credentials, Some("u:p"));
        assert!(tls);
        assert!(is_cluster_url("rediss-cluster://cache-1:6379"));
        assert!(!is_cluster_url("rediss://cache-1:6379"));
        let builder = cluster_builder("rediss-cluster://127.0.0.1:7000").unwrap();
        assert!(builder.unwrap().build().is_ok());
    }
}
