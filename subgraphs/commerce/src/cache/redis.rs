//! The product cache in Redis, standalone or Redis Cluster, shared by every commerce process.
//!
//! Keys: `<prefix>:p:<product id>` (prefix `pc:v1` by default), a string holding the
//! [`Product`] as JSON, set with `PX <ttl>`. Every key has a TTL, so Redis under a `volatile-*`
//! `maxmemory-policy` can evict them.
//!
//! Non-obvious decision, the cluster: keys carry no hash tag, so products spread over every
//! slot and no node holds a hot cache alone. A server refuses a multi-key command across slots,
//! but the cluster client of `redis` 1.x splits `MGET` and `DEL` by slot itself, sends the parts
//! to their nodes concurrently and reassembles the answer in key order, so reads and
//! invalidations are one command in both modes. It does not split pipelines (it refuses a
//! cross-slot one), so a fill is one pipeline of `SET … PX` on a standalone Redis and concurrent
//! single-key `SET`s on a cluster, which the multiplexed connection writes back to back anyway.
//!
//! The connection is made lazily: Redis being down at start does not stop the process, and after
//! a failed attempt the cache is skipped for `retry_after` so reads do not each pay a connect.
//! Once connected, the connection reconnects by itself and every call is bounded by
//! `call_timeout`; a cache that is slow or down only ever costs that much on top of the store.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use polygate_kit::redis::{Connection, cluster_builder};
use redis::RedisError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;

use super::{CacheError, CacheSettings, Fence, FillTicket, ProductCache};
use crate::domain::Product;
use crate::ids::ProductId;

/// Key prefix used in production; tests pass a unique one. `v1`: the JSON of [`Product`].
pub const DEFAULT_PREFIX: &str = "pc:v1";
pub use polygate_kit::redis::CLUSTER_SCHEME;

pub struct RedisProductCache {
    client: Client,
    /// The connection once made; `None` until the first successful attempt.
    conn: RwLock<Option<Connection>>,
    /// Held while connecting, so concurrent callers wait for one attempt instead of each making
    /// their own.
    connecting: tokio::sync::Mutex<()>,
    /// No connection attempt before this instant (set after a failed one).
    retry_at: Mutex<Option<Instant>>,
    fence: Fence,
    prefix: String,
    ttl_ms: u64,
    call_timeout: Duration,
    connect_timeout: Duration,
    retry_after: Duration,
}

enum Client {
    // Boxed like the cluster client: with TLS built in, redis::Client is ~240 bytes.
    Standalone(Box<redis::Client>),
    Cluster(Box<ClusterClient>),
}

impl RedisProductCache {
    /// A cache on `redis://…` / `rediss://…` or `redis-cluster://h1:p1,h2:p2,…` (the nodes are
    /// seeds, the rest is discovered). Checks the URL only; the connection is made on first use.
    pub fn new(url: &str, settings: &CacheSettings) -> Result<Self, CacheError> {
        let ttl_ms = u64::try_from(settings.ttl.as_millis())
            .ok()
            .filter(|ms| *ms > 0)
            .ok_or_else(|| CacheError::InvalidConfig("the TTL must be at least 1 ms".to_owned()))?;
        Ok(Self {
            client: client(url, settings)?,
            conn: RwLock::new(None),
            connecting: tokio::sync::Mutex::new(()),
            retry_at: Mutex::new(None),
            fence: Fence::new(),
            prefix: settings.prefix.clone(),
            ttl_ms,
            call_timeout: settings.call_timeout,
            connect_timeout: settings.connect_timeout,
            retry_after: settings.retry_after,
        })
    }

    /// The key of one product.
    pub fn key(&self, id: ProductId) -> String {
        format!("{}:p:{id}", self.prefix)
    }

    /// The connection, made now if need be, unless an attempt failed less than `retry_after`
    /// ago.
    async fn connection(&self) -> Result<Connection, CacheError> {
        let current = || self.conn.read().unwrap_or_else(|e| e.into_inner()).clone();
        let backing_off = || {
            let retry_at = self.retry_at.lock().unwrap_or_else(|e| e.into_inner());
            retry_at.is_some_and(|at| Instant::now() < at)
        };
        let down = || CacheError::Unavailable("skipped after a failed connection".to_owned());
        if let Some(conn) = current() {
            return Ok(conn);
        }
        if backing_off() {
            return Err(down());
        }
        let _connecting = self.connecting.lock().await;
        // Whoever held the lock before may have connected, or failed: then give up too.
        if let Some(conn) = current() {
            return Ok(conn);
        }
        if backing_off() {
            return Err(down());
        }
        let connect = self.client.connect(self.connect_timeout, self.call_timeout);
        let attempt = match tokio::time::timeout(self.connect_timeout, connect).await {
            Ok(result) => result,
            Err(_) => Err(CacheError::Unavailable(format!(
                "connecting timed out after {:?}",
                self.connect_timeout
            ))),
        };
        match attempt {
            Ok(conn) => {
                *self.conn.write().unwrap_or_else(|e| e.into_inner()) = Some(conn.clone());
                Ok(conn)
            }
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    retry_after = ?self.retry_after,
                    "product cache: cannot connect to Redis; reads go to the store meanwhile"
                );
                *self.retry_at.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(Instant::now() + self.retry_after);
                Err(e)
            }
        }
    }

    /// Runs one cache call under `call_timeout`.
    async fn call<T>(
        &self,
        work: impl Future<Output = Result<T, RedisError>>,
    ) -> Result<T, CacheError> {
        match tokio::time::timeout(self.call_timeout, work).await {
            Ok(result) => result.map_err(|e| CacheError::Unavailable(e.to_string())),
            Err(_) => Err(CacheError::Unavailable(format!(
                "Redis did not answer within {:?}",
                self.call_timeout
            ))),
        }
    }
}

impl Client {
    async fn connect(
        &self,
        connect_timeout: Duration,
        call_timeout: Duration,
    ) -> Result<Connection, CacheError> {
        match self {
            Client::Standalone(client) => {
                let config = ConnectionManagerConfig::new()
                    .set_number_of_retries(1)
                    .set_connection_timeout(Some(connect_timeout))
                    .set_response_timeout(Some(call_timeout));
                ConnectionManager::new_with_config((**client).clone(), config)
                    .await
                    .map(Connection::Standalone)
                    .map_err(|e| CacheError::Unavailable(e.to_string()))
            }
            Client::Cluster(client) => client
                .get_async_connection()
                .await
                .map(Connection::Cluster)
                .map_err(|e| CacheError::Unavailable(e.to_string())),
        }
    }
}

/// Parses a cache URL into a client, without connecting.
fn client(url: &str, settings: &CacheSettings) -> Result<Client, CacheError> {
    let invalid = |e: RedisError| CacheError::InvalidConfig(format!("invalid Redis URL: {e}"));
    let Some(builder) = cluster_builder(url) else {
        return redis::Client::open(url)
            .map(|client| Client::Standalone(Box::new(client)))
            .map_err(invalid);
    };
    let builder = builder
        .map_err(CacheError::InvalidConfig)?
        .connection_timeout(settings.connect_timeout)
        .response_timeout(settings.call_timeout)
        .retries(1)
        .min_retry_wait(10)
        .max_retry_wait(100);
    builder
        .build()
        .map(|client| Client::Cluster(Box::new(client)))
        .map_err(invalid)
}

#[async_trait]
impl ProductCache for RedisProductCache {
    fn ticket(&self) -> FillTicket {
        self.fence.ticket()
    }

    async fn get_many(&self, ids: &[ProductId]) -> Result<HashMap<ProductId, Product>, CacheError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut conn = self.connection().await?;
        let keys: Vec<String> = ids.iter().map(|id| self.key(*id)).collect();
        let values: Vec<Option<Vec<u8>>> = self
            .call(redis::cmd("MGET").arg(&keys).query_async(&mut conn))
            .await?;
        let mut found = HashMap::with_capacity(ids.len());
        for (id, value) in ids.iter().zip(values) {
            let Some(json) = value else { continue };
            match serde_json::from_slice::<Product>(&json) {
                // A key names its product; anything else is someone else's data: a miss.
                Ok(product) if product.id == *id => {
                    found.insert(*id, product);
                }
                Ok(_) => {
                    tracing::warn!(product = %id, "product cache: entry holds another product")
                }
                // A format from another version under the same prefix: a miss, soon refilled.
                Err(e) => tracing::warn!(product = %id, error = %e, "product cache: bad entry"),
            }
        }
        Ok(found)
    }

    async fn put_many(&self, products: &[Product], ticket: FillTicket) -> Result<(), CacheError> {
        let mut commands = Vec::with_capacity(products.len());
        for product in products {
            if !self.fence.admits(product.id, ticket) {
                continue;
            }
            let json = serde_json::to_vec(product)
                .map_err(|e| CacheError::Unavailable(format!("cannot encode a product: {e}")))?;
            let mut set = redis::cmd("SET");
            set.arg(self.key(product.id))
                .arg(json)
                .arg("PX")
                .arg(self.ttl_ms);
            commands.push(set);
        }
        if commands.is_empty() {
            return Ok(());
        }
        let mut conn = self.connection().await?;
        match &conn {
            Connection::Standalone(_) => {
                let mut pipe = redis::pipe();
                for command in commands {
                    pipe.add_command(command).ignore();
                }
                self.call(pipe.query_async::<()>(&mut conn)).await
            }
            Connection::Cluster(_) => {
                let sets = commands.into_iter().map(|command| {
                    let mut conn = conn.clone();
                    async move { command.query_async::<()>(&mut conn).await }
                });
                self.call(futures::future::try_join_all(sets))
                    .await
                    .map(|_| ())
            }
        }
    }

    async fn invalidate(&self, ids: &[ProductId]) -> Result<(), CacheError> {
        // The fence first: from here on no fill of this process holding an older ticket stores
        // these ids, whatever happens to the DEL.
        self.fence.invalidate(ids);
        if ids.is_empty() {
            return Ok(());
        }
        let mut conn = self.connection().await?;
        let keys: Vec<String> = ids.iter().map(|id| self.key(*id)).collect();
        self.call(redis::cmd("DEL").arg(&keys).query_async::<()>(&mut conn))
            .await
    }

    fn kind(&self) -> &'static str {
        match self.client {
            Client::Standalone(_) => "redis",
            Client::Cluster(_) => "redis-cluster",
        }
    }
}
