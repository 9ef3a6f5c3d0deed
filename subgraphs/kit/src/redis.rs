//! What every Redis-backed store shares: one connection type for standalone Redis and Redis
//! Cluster, and the `redis-cluster://` URL form that picks the cluster.

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};

/// URL scheme of a Redis Cluster: `redis-cluster://[user:password@]host:port,host:port,…`.
pub const CLUSTER_SCHEME: &str = "redis-cluster://";

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
    let nodes = url.strip_prefix(CLUSTER_SCHEME)?;
    let (credentials, hosts) = match nodes.rsplit_once('@') {
        Some((credentials, hosts)) => (Some(credentials), hosts),
        None => (None, nodes),
    };
    let seeds: Vec<String> = hosts
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| format!("redis://{h}"))
        .collect();
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
}
