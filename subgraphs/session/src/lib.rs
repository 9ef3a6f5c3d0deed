//! The session subgraph: web sessions in a key-value store (Redis in the cloud, an in-process
//! TTL cache when embedded), the GraphQL API over them, and the token ports the gateway and
//! commerce use.
//!
//! Non-obvious decision: the store is chosen at run time from one URL (`memory`, `redis://…`,
//! `redis-cluster://…`, or the TLS forms `rediss://…`, `rediss-cluster://…`) behind `Arc<dyn SessionStore>`, so the gateway's embedded mode and the standalone binary share
//! every line above the adapters.

use std::sync::Arc;

use anyhow::Context as _;
use async_trait::async_trait;

pub mod auth;
pub mod iam;
pub mod schema;
pub mod store;
pub mod subgraph;
pub mod validation_cache;

pub use auth::SessionAuth;
pub use schema::SessionSchema;
pub use store::{Session, SessionPolicy, SessionStore};
pub use subgraph::{SessionSettings, Sessions};

/// The subgraph's name in the supergraph, logs and metrics.
pub const NAME: &str = "session";

/// The executable federation schema over `store`.
pub fn schema(store: Arc<dyn SessionStore>) -> SessionSchema {
    schema::build(store)
}

/// The federation SDL this code serves (what `schema/session.graphql` must hold).
pub fn sdl() -> String {
    let store = Arc::new(store::MemoryStore::new(SessionPolicy::default()));
    schema(store).sdl_with_options(polygate_kit::sdl_options())
}

/// Readiness of the store behind this subgraph, for `/ready`.
pub fn probe(store: Arc<dyn SessionStore>) -> Arc<dyn polygate_kit::Probe> {
    Arc::new(StoreProbe(store))
}

struct StoreProbe(Arc<dyn SessionStore>);

#[async_trait]
impl polygate_kit::Probe for StoreProbe {
    fn name(&self) -> String {
        format!("{NAME}/{}", self.0.engine())
    }

    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

/// Opens the store named by `store_url`: `memory`, `redis://[user:password@]host:port[/db]`, or
/// `redis-cluster://[user:password@]host:port,host:port,…` (seed nodes of a Redis Cluster), or
/// their TLS forms `rediss://…` and `rediss-cluster://…`.
/// Fails when the URL is of another kind or the Redis does not answer.
pub async fn connect(
    store_url: &str,
    policy: SessionPolicy,
) -> anyhow::Result<Arc<dyn SessionStore>> {
    connect_with(store_url, policy, &store::redis::RedisOptions::default()).await
}

/// [`connect`] with Redis connection `options` (the CA a `rediss://` server must chain to).
pub async fn connect_with(
    store_url: &str,
    policy: SessionPolicy,
    options: &store::redis::RedisOptions,
) -> anyhow::Result<Arc<dyn SessionStore>> {
    let url = store_url.trim();
    if url == "memory" {
        return Ok(Arc::new(store::MemoryStore::new(policy)));
    }
    if url.starts_with("redis://")
        || url.starts_with("rediss://")
        || polygate_kit::redis::is_cluster_url(url)
    {
        let redis =
            store::RedisStore::connect_with(url, policy, store::redis::DEFAULT_PREFIX, options)
                .await
                .with_context(|| format!("cannot use the session store at {}", redact(url)))?;
        return Ok(Arc::new(redis));
    }
    anyhow::bail!(
        "unsupported session store `{}`: expected `memory`, `redis://host:port`, \
         `redis-cluster://host:port,host:port,…` or their TLS forms `rediss://`, \
         `rediss-cluster://`",
        redact(url)
    )
}

/// The URL without its credentials, for error messages.
fn redact(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, _)), Some(at)) if at > scheme.len() => {
            format!("{scheme}://***@{}", &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_reach_error_messages() {
        assert_eq!(
            redact("redis://:hunter2@db:6379/0"),
            "redis://***@db:6379/0"
        );
        assert_eq!(redact("redis://db:6379"), "redis://db:6379");
        assert_eq!(
            redact("redis-cluster://u:hunter2@a:7000,b:7001"),
            "redis-cluster://***@a:7000,b:7001"
        );
    }

    #[tokio::test]
    async fn an_unknown_store_kind_is_named_in_the_error() {
        let err = connect("postgres://x", SessionPolicy::default())
            .await
            .err()
            .expect("refused");
        assert!(err.to_string().contains("postgres://x"), "{err}");
        assert!(err.to_string().contains("memory"), "{err}");
    }

    #[tokio::test]
    async fn an_unreachable_redis_fails_at_connect() {
        // Port 1 is reserved and closed on any test machine.
        let err = connect("redis://127.0.0.1:1", SessionPolicy::default())
            .await
            .err()
            .expect("refused");
        let text = format!("{err:#}");
        assert!(text.contains("127.0.0.1:1"), "{text}");
    }

    #[tokio::test]
    async fn an_unreachable_cluster_fails_at_connect() {
        let err = connect(
            "redis-cluster://127.0.0.1:1,127.0.0.1:2",
            SessionPolicy::default(),
        )
        .await
        .err()
        .expect("refused");
        let text = format!("{err:#}");
        assert!(text.contains("redis-cluster://127.0.0.1:1"), "{text}");
    }
}
