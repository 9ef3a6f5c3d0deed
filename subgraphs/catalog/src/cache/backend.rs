//! Where cached bytes live: process memory ([`MemoryBackend`], embedded mode) or Redis /
//! Redis Cluster ([`RedisBackend`]). Byte values under string keys, each with its own TTL, plus
//! one counter (the page generation).
//!
//! Redis, non-obvious: keys carry no hash tag, so they spread over every cluster slot; the
//! cluster client of `redis` 1.x splits `MGET` and `DEL` by slot itself. It refuses cross-slot
//! pipelines, so a fill is one pipeline of `SET … PX` on a standalone Redis and concurrent
//! single-key `SET`s on a cluster. The connection is made lazily: Redis being down at start does
//! not stop the process, and after a failed attempt the cache is skipped for `retry_after`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use polygate_kit::redis::{Connection, cluster_builder};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::CacheSettings;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    #[error("catalog cache unavailable: {0}")]
    Unavailable(String),
    #[error("invalid catalog cache configuration: {0}")]
    InvalidConfig(String),
}

#[async_trait]
pub trait CacheBackend: Send + Sync {
    /// The values of `keys`, in order; `None` for a miss.
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CacheError>;
    /// Stores each `(key, value, ttl)`.
    async fn put_many(&self, entries: Vec<(String, Vec<u8>, Duration)>) -> Result<(), CacheError>;
    async fn delete(&self, keys: &[String]) -> Result<(), CacheError>;
    /// The counter `key` (0 when absent).
    async fn counter(&self, key: &str) -> Result<u64, CacheError>;
    /// Adds one to the counter `key` (it never expires).
    async fn bump(&self, key: &str) -> Result<u64, CacheError>;
    /// `memory`, `redis` or `redis-cluster`, for logs.
    fn kind(&self) -> &'static str;
}

// ---- memory -------------------------------------------------------------------------------

/// A bounded map with per-entry expiry. Eviction is first-in, first-out over insertions: with
/// TTLs this close to each other the oldest insertion is about the first to expire anyway, and
/// a queue costs O(1) per operation where an LRU would bookkeep every hit.
pub struct MemoryBackend {
    inner: Mutex<Memory>,
    max_entries: usize,
}

#[derive(Default)]
struct Memory {
    entries: HashMap<String, (Vec<u8>, Instant, u64)>,
    queue: VecDeque<(String, u64)>,
    counters: HashMap<String, u64>,
    next_stamp: u64,
}

impl MemoryBackend {
    pub fn new(max_entries: usize) -> Self {
        Self {
            inner: Mutex::new(Memory::default()),
            max_entries: max_entries.max(1),
        }
    }

    /// Entries held now (expired ones included until swept).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Memory {
    fn sweep(&mut self, now: Instant, max_entries: usize) {
        while let Some((key, stamp)) = self.queue.front().cloned() {
            let live = self.entries.get(&key).filter(|e| e.2 == stamp);
            match live {
                None => {}
                Some(e) if e.1 <= now || self.entries.len() > max_entries => {
                    self.entries.remove(&key);
                }
                Some(_) => break,
            }
            self.queue.pop_front();
        }
        if self.queue.len() > 2 * max_entries + 64 {
            let entries = &self.entries;
            self.queue
                .retain(|(k, s)| entries.get(k).is_some_and(|e| e.2 == *s));
        }
    }
}

#[async_trait]
impl CacheBackend for MemoryBackend {
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        let now = Instant::now();
        let inner = self.lock();
        Ok(keys
            .iter()
            .map(|k| {
                inner
                    .entries
                    .get(k)
                    .filter(|e| e.1 > now)
                    .map(|e| e.0.clone())
            })
            .collect())
    }

    async fn put_many(&self, entries: Vec<(String, Vec<u8>, Duration)>) -> Result<(), CacheError> {
        let now = Instant::now();
        let mut inner = self.lock();
        for (key, value, ttl) in entries {
            let stamp = inner.next_stamp;
            inner.next_stamp += 1;
            inner.queue.push_back((key.clone(), stamp));
            inner.entries.insert(key, (value, now + ttl, stamp));
        }
        inner.sweep(now, self.max_entries);
        Ok(())
    }

    async fn delete(&self, keys: &[String]) -> Result<(), CacheError> {
        let mut inner = self.lock();
        for key in keys {
            inner.entries.remove(key);
        }
        Ok(())
    }

    async fn counter(&self, key: &str) -> Result<u64, CacheError> {
        Ok(self.lock().counters.get(key).copied().unwrap_or(0))
    }

    async fn bump(&self, key: &str) -> Result<u64, CacheError> {
        let mut inner = self.lock();
        let counter = inner.counters.entry(key.to_owned()).or_insert(0);
        *counter += 1;
        Ok(*counter)
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}

// ---- redis --------------------------------------------------------------------------------

enum Client {
    // Boxed like the cluster client: with TLS built in, redis::Client is ~240 bytes.
    Standalone(Box<redis::Client>),
    Cluster(Box<redis::cluster::ClusterClient>),
}

pub struct RedisBackend {
    client: Client,
    conn: RwLock<Option<Connection>>,
    connecting: tokio::sync::Mutex<()>,
    retry_at: Mutex<Option<Instant>>,
    call_timeout: Duration,
    retry_after: Duration,
}

impl RedisBackend {
    /// A backend on `redis://…` / `rediss://…` or `redis-cluster://h1:p1,h2:p2,…`. Checks the
    /// URL only; the connection is made on first use.
    pub fn new(url: &str, settings: &CacheSettings) -> Result<Self, CacheError> {
        let invalid = |e: redis::RedisError| CacheError::InvalidConfig(e.to_string());
        let client = match cluster_builder(url) {
            None => Client::Standalone(Box::new(redis::Client::open(url).map_err(invalid)?)),
            Some(builder) => Client::Cluster(Box::new(
                builder
                    .map_err(CacheError::InvalidConfig)?
                    .connection_timeout(settings.call_timeout * 4)
                    .response_timeout(settings.call_timeout)
                    .retries(1)
                    .build()
                    .map_err(invalid)?,
            )),
        };
        Ok(Self {
            client,
            conn: RwLock::new(None),
            connecting: tokio::sync::Mutex::new(()),
            retry_at: Mutex::new(None),
            call_timeout: settings.call_timeout,
            retry_after: settings.retry_after,
        })
    }

    async fn connection(&self) -> Result<Connection, CacheError> {
        let current = || self.conn.read().unwrap_or_else(|e| e.into_inner()).clone();
        let backing_off = || {
            let at = self.retry_at.lock().unwrap_or_else(|e| e.into_inner());
            at.is_some_and(|at| Instant::now() < at)
        };
        let down = || CacheError::Unavailable("skipped after a failed connection".into());
        if let Some(conn) = current() {
            return Ok(conn);
        }
        if backing_off() {
            return Err(down());
        }
        let _connecting = self.connecting.lock().await;
        if let Some(conn) = current() {
            return Ok(conn);
        }
        if backing_off() {
            return Err(down());
        }
        let attempt = async {
            match &self.client {
                Client::Standalone(client) => {
                    let config = ConnectionManagerConfig::new()
                        .set_number_of_retries(1)
                        .set_connection_timeout(Some(self.call_timeout * 4))
                        .set_response_timeout(Some(self.call_timeout));
                    ConnectionManager::new_with_config((**client).clone(), config)
                        .await
                        .map(Connection::Standalone)
                }
                Client::Cluster(client) => {
                    client.get_async_connection().await.map(Connection::Cluster)
                }
            }
        };
        match tokio::time::timeout(self.call_timeout * 4, attempt).await {
            Ok(Ok(conn)) => {
                *self.conn.write().unwrap_or_else(|e| e.into_inner()) = Some(conn.clone());
                Ok(conn)
            }
            failed => {
                let why = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => "connecting timed out".to_owned(),
                };
                tracing::warn!(error = %why, "catalog cache: cannot connect to Redis; reads go to the store");
                *self.retry_at.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(Instant::now() + self.retry_after);
                Err(CacheError::Unavailable(why))
            }
        }
    }

    async fn call<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, redis::RedisError>>,
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

#[async_trait]
impl CacheBackend for RedisBackend {
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.connection().await?;
        self.call(redis::cmd("MGET").arg(keys).query_async(&mut conn))
            .await
    }

    async fn put_many(&self, entries: Vec<(String, Vec<u8>, Duration)>) -> Result<(), CacheError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut conn = self.connection().await?;
        let set = |(key, value, ttl): (String, Vec<u8>, Duration)| {
            let mut cmd = redis::cmd("SET");
            cmd.arg(key)
                .arg(value)
                .arg("PX")
                .arg(ttl.as_millis().max(1) as u64);
            cmd
        };
        match &conn {
            Connection::Standalone(_) => {
                let mut pipe = redis::pipe();
                for entry in entries {
                    pipe.add_command(set(entry)).ignore();
                }
                self.call(pipe.query_async::<()>(&mut conn)).await
            }
            Connection::Cluster(_) => {
                let sets = entries.into_iter().map(|entry| {
                    let mut conn = conn.clone();
                    let cmd = set(entry);
                    async move { cmd.query_async::<()>(&mut conn).await }
                });
                self.call(futures::future::try_join_all(sets))
                    .await
                    .map(|_| ())
            }
        }
    }

    async fn delete(&self, keys: &[String]) -> Result<(), CacheError> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut conn = self.connection().await?;
        self.call(redis::cmd("DEL").arg(keys).query_async::<()>(&mut conn))
            .await
    }

    async fn counter(&self, key: &str) -> Result<u64, CacheError> {
        let mut conn = self.connection().await?;
        let value: Option<u64> = self
            .call(redis::cmd("GET").arg(key).query_async(&mut conn))
            .await?;
        Ok(value.unwrap_or(0))
    }

    async fn bump(&self, key: &str) -> Result<u64, CacheError> {
        let mut conn = self.connection().await?;
        self.call(redis::cmd("INCR").arg(key).query_async(&mut conn))
            .await
    }

    fn kind(&self) -> &'static str {
        match self.client {
            Client::Standalone(_) => "redis",
            Client::Cluster(_) => "redis-cluster",
        }
    }
}
