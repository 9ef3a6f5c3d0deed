//! The shared (L2) level: Redis, used by every gateway instance, and the channel that carries
//! each instance's invalidations to the others' L1.
//!
//! Layout under the prefix (`polygate:cache:`): `seq` (a counter), `tag:<tag>` (the counter's
//! value at the tag's last invalidation), `r:<key>` (a hash: `body`, `seq`, `tags`, `scope`,
//! `label`, expiring with the entry's max age), and the pub/sub channel `invalidations` (tags,
//! one per line). A read checks the entry's tags against their versions, as L1 does.
//!
//! Redis down, or the subscription lost, means no cache at all (`available()` is false): an
//! instance that cannot hear the others' invalidations must not serve its L1 either. When the
//! subscription is back, L1 is flushed, since it may have missed invalidations meanwhile.
//! An invalidation that fails to reach Redis is not dropped: its tags are parked and sent again
//! (every second, and at once when the subscription comes back) until Redis takes them; until
//! then this instance caches nothing and treats L2 entries carrying a parked tag as misses, and
//! the other instances learn of the write when the retry lands, not at the entry's max age.
//! Nothing here ever fails a client request: errors become a metric and a log line.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use redis::AsyncCommands as _;
use redis::aio::ConnectionManager;

use super::config::Scope;
use super::metrics;
use super::store::ResponseStore;

/// Every Redis call is cut off after this long (then the request goes on uncached).
const CALL_TIMEOUT: Duration = Duration::from_millis(100);
/// How long a tag version outlives its last invalidation: longer than any max age in use.
const TAG_TTL_SECS: u64 = 24 * 3600;
/// Reconnect pause after the subscription fails, and between sends of parked invalidations.
const RETRY: Duration = Duration::from_secs(1);
/// Parked (undelivered) tags kept exactly; past this, an entity's tag is parked as its whole
/// type's (`e:Product:MUG-01` → `t:Product`: more is dropped, never less).
const MAX_PARKED_TAGS: usize = 50_000;

pub struct SharedEntry {
    pub body: Bytes,
    pub tags: Vec<String>,
    pub scope: Scope,
    pub label: String,
    pub remaining: Duration,
}

pub enum SharedLookup {
    Hit(SharedEntry),
    /// Not there (or stale, and dropped); `seq` is the counter read before, to store with.
    Miss {
        seq: u64,
    },
}

#[derive(Clone)]
pub struct SharedStore {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    conn: tokio::sync::OnceCell<ConnectionManager>,
    prefix: String,
    subscribed: AtomicBool,
    runtime: tokio::runtime::Handle,
    /// Tags this instance invalidated whose bump has not reached Redis yet: an L2 entry
    /// carrying one is a miss meanwhile, so a client's read right after its own mutation never
    /// gets the entry the mutation dropped.
    pending: Mutex<HashMap<String, u32>>,
    /// Tags whose invalidation failed to reach Redis, to be sent again; each holds one count
    /// in `pending`. While any is parked this instance caches nothing.
    parked: Mutex<BTreeSet<String>>,
    /// Wakes the resender early (the subscription is back).
    resend: tokio::sync::Notify,
    resending: AtomicBool,
}

/// The tag that drops every entry holding `tag`'s type (`e:T:key`, `u:T` → `t:T`).
fn type_tag(tag: &str) -> Option<String> {
    let mut parts = tag.splitn(3, ':');
    let (_, type_name) = (parts.next()?, parts.next()?);
    Some(format!("t:{type_name}"))
}

/// Gives back one `pending` count of `tag`.
fn release(pending: &mut HashMap<String, u32>, tag: &str) {
    if let Some(count) = pending.get_mut(tag) {
        *count -= 1;
        if *count == 0 {
            pending.remove(tag);
        }
    }
}

fn failed(what: &str, error: impl std::fmt::Display) {
    metrics::event("l2", "error", what);
    tracing::warn!(operation = what, error = %error, "cache L2 (Redis) call failed; serving uncached");
}

impl SharedStore {
    /// Connects lazily; starts the invalidation listener on `runtime`, which applies other
    /// instances' invalidations to every store in `l1` (response and entity level).
    pub fn start(
        url: &str,
        prefix: &str,
        runtime: tokio::runtime::Handle,
        l1: Vec<Arc<ResponseStore>>,
    ) -> anyhow::Result<Self> {
        let client =
            redis::Client::open(url).map_err(|e| anyhow::anyhow!("cache.redis_url: {e}"))?;
        let store = Self {
            inner: Arc::new(Inner {
                client,
                conn: tokio::sync::OnceCell::new(),
                prefix: prefix.to_owned(),
                subscribed: AtomicBool::new(false),
                runtime: runtime.clone(),
                pending: Mutex::default(),
                parked: Mutex::default(),
                resend: tokio::sync::Notify::new(),
                resending: AtomicBool::new(false),
            }),
        };
        let listener = store.clone();
        runtime.spawn(async move { listener.listen(l1).await });
        Ok(store)
    }

    /// False while Redis or the invalidation channel is down, or an invalidation of ours has
    /// not reached Redis yet: then nothing is cached.
    pub fn available(&self) -> bool {
        self.inner.subscribed.load(Ordering::SeqCst) && self.parked_count() == 0
    }

    /// Why `available()` is false (the debug summary's reason).
    pub fn unavailable_reason(&self) -> &'static str {
        if self.inner.subscribed.load(Ordering::SeqCst) {
            "L2 (Redis) degraded: an invalidation has not reached Redis yet"
        } else {
            "L2 (Redis) unavailable: not subscribed to invalidations"
        }
    }

    fn parked_count(&self) -> usize {
        self.inner
            .parked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.inner.prefix)
    }

    async fn conn(&self) -> redis::RedisResult<ConnectionManager> {
        self.inner
            .conn
            .get_or_try_init(|| async {
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(CALL_TIMEOUT))
                    .set_response_timeout(Some(CALL_TIMEOUT))
                    .set_number_of_retries(1);
                self.inner
                    .client
                    .get_connection_manager_with_config(config)
                    .await
            })
            .await
            .cloned()
    }

    /// Runs `work` on the store runtime with the call timeout; `None` on any failure.
    async fn run<T, F>(&self, what: &'static str, work: F) -> Option<T>
    where
        T: Send + 'static,
        F: Future<Output = redis::RedisResult<T>> + Send + 'static,
    {
        let task = self
            .inner
            .runtime
            .spawn(async move { tokio::time::timeout(CALL_TIMEOUT * 2, work).await });
        match task.await {
            Ok(Ok(Ok(value))) => Some(value),
            Ok(Ok(Err(e))) => {
                failed(what, e);
                None
            }
            Ok(Err(_)) => {
                failed(what, "timed out");
                None
            }
            Err(e) => {
                failed(what, e);
                None
            }
        }
    }

    pub async fn get(&self, key: &[u8; 32]) -> Option<SharedLookup> {
        let this = self.clone();
        let entry_key = self.key(&format!("r:{}", hex::encode(key)));
        let seq_key = self.key("seq");
        self.run("get", async move {
            let mut conn = this.conn().await?;
            let (seq, fields, ttl_ms): (Option<u64>, Vec<Option<Vec<u8>>>, i64) = redis::pipe()
                .get(&seq_key)
                .cmd("HMGET")
                .arg(&entry_key)
                .arg(&["body", "seq", "tags", "scope", "label"])
                .cmd("PTTL")
                .arg(&entry_key)
                .query_async(&mut conn)
                .await?;
            let seq = seq.unwrap_or(0);
            let text = |i: usize| {
                fields
                    .get(i)
                    .cloned()
                    .flatten()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
            };
            let (Some(body), Some(stored_seq)) = (
                fields.first().cloned().flatten(),
                text(1).and_then(|s| s.parse::<u64>().ok()),
            ) else {
                return Ok(SharedLookup::Miss { seq });
            };
            let tags: Vec<String> = text(2)
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect();
            let pending = {
                let pending = this.inner.pending.lock().unwrap_or_else(|p| p.into_inner());
                tags.iter().any(|t| pending.contains_key(t))
            };
            if pending {
                return Ok(SharedLookup::Miss { seq });
            }
            if !tags.is_empty() {
                let tag_keys: Vec<String> =
                    tags.iter().map(|t| this.key(&format!("tag:{t}"))).collect();
                let versions: Vec<Option<u64>> = conn.mget(&tag_keys).await?;
                if versions.iter().flatten().any(|v| *v > stored_seq) {
                    let _: () = conn.del(&entry_key).await?;
                    metrics::event("l2", "stale_drop", &text(4).unwrap_or_default());
                    return Ok(SharedLookup::Miss { seq });
                }
            }
            Ok(SharedLookup::Hit(SharedEntry {
                body: Bytes::from(body),
                tags,
                scope: if text(3).as_deref() == Some("private") {
                    Scope::Private
                } else {
                    Scope::Public
                },
                label: text(4).unwrap_or_default(),
                remaining: Duration::from_millis(ttl_ms.max(0) as u64),
            }))
        })
        .await
    }

    /// Stores in the background (the response is not held back for Redis).
    #[allow(clippy::too_many_arguments)]
    pub fn put(
        &self,
        key: &[u8; 32],
        body: Bytes,
        max_age: Duration,
        seq: u64,
        tags: &[String],
        scope: Scope,
        label: &str,
    ) {
        let this = self.clone();
        let entry_key = self.key(&format!("r:{}", hex::encode(key)));
        let tags = tags.join("\n");
        let scope = match scope {
            Scope::Public => "public",
            Scope::Private => "private",
        };
        let label = label.to_owned();
        let ttl_ms = max_age.as_millis().max(1) as u64;
        self.inner.runtime.spawn(async move {
            let stored = this
                .run("put", {
                    let this = this.clone();
                    async move {
                        let mut conn = this.conn().await?;
                        redis::pipe()
                            .cmd("HSET")
                            .arg(&entry_key)
                            .arg("body")
                            .arg(body.as_ref())
                            .arg("seq")
                            .arg(seq)
                            .arg("tags")
                            .arg(&tags)
                            .arg("scope")
                            .arg(scope)
                            .arg("label")
                            .arg(&label)
                            .ignore()
                            .cmd("PEXPIRE")
                            .arg(&entry_key)
                            .arg(ttl_ms)
                            .ignore()
                            .query_async::<()>(&mut conn)
                            .await?;
                        Ok(label)
                    }
                })
                .await;
            if let Some(label) = stored {
                metrics::event("l2", "store", &label);
            }
        });
    }

    /// Bumps `tags` in Redis and tells the other instances (in the background); parks them
    /// for resending when Redis does not take them.
    pub fn invalidate(&self, tags: Vec<String>) {
        {
            let mut pending = self.inner.pending.lock().unwrap_or_else(|p| p.into_inner());
            for tag in &tags {
                *pending.entry(tag.clone()).or_default() += 1;
            }
        }
        let this = self.clone();
        self.inner.runtime.spawn(async move {
            if this.deliver(tags.clone()).await {
                let mut pending = this.inner.pending.lock().unwrap_or_else(|p| p.into_inner());
                for tag in &tags {
                    release(&mut pending, tag);
                }
            } else {
                this.park(tags);
            }
        });
    }

    /// One attempt to bump `tags` and publish them; false when Redis did not take it.
    async fn deliver(&self, tags: Vec<String>) -> bool {
        let inner = self.clone();
        self.run("invalidate", async move {
            let mut conn = inner.conn().await?;
            let version: u64 = conn.incr(inner.key("seq"), 1).await?;
            let mut pipe = redis::pipe();
            for tag in &tags {
                pipe.cmd("SET")
                    .arg(inner.key(&format!("tag:{tag}")))
                    .arg(version)
                    .arg("EX")
                    .arg(TAG_TTL_SECS)
                    .ignore();
            }
            pipe.cmd("PUBLISH")
                .arg(inner.key("invalidations"))
                .arg(tags.join("\n"))
                .ignore();
            pipe.query_async::<()>(&mut conn).await
        })
        .await
        .is_some()
    }

    /// Keeps undelivered `tags` (each keeps its `pending` count) and starts the resender.
    fn park(&self, tags: Vec<String>) {
        {
            let mut parked = self.inner.parked.lock().unwrap_or_else(|p| p.into_inner());
            let mut pending = self.inner.pending.lock().unwrap_or_else(|p| p.into_inner());
            for tag in tags {
                let kept = match type_tag(&tag) {
                    Some(whole) if parked.len() >= MAX_PARKED_TAGS && whole != tag => {
                        release(&mut pending, &tag);
                        *pending.entry(whole.clone()).or_default() += 1;
                        whole
                    }
                    _ => tag,
                };
                if !parked.insert(kept.clone()) {
                    // Already parked, holding its count.
                    release(&mut pending, &kept);
                }
            }
            metrics::event("l2", "undelivered", "invalidation");
            tracing::warn!(
                parked = parked.len(),
                "cache invalidation did not reach Redis; this instance caches nothing until it is resent"
            );
        }
        if !self.inner.resending.swap(true, Ordering::SeqCst) {
            let this = self.clone();
            self.inner
                .runtime
                .spawn(async move { this.resend_parked().await });
        }
    }

    /// Sends parked tags again until none is left.
    async fn resend_parked(self) {
        loop {
            let _ = tokio::time::timeout(RETRY, self.inner.resend.notified()).await;
            let batch: Vec<String> = {
                let parked = self.inner.parked.lock().unwrap_or_else(|p| p.into_inner());
                if parked.is_empty() {
                    self.inner.resending.store(false, Ordering::SeqCst);
                    return;
                }
                parked.iter().cloned().collect()
            };
            if self.deliver(batch.clone()).await {
                let mut parked = self.inner.parked.lock().unwrap_or_else(|p| p.into_inner());
                let mut pending = self.inner.pending.lock().unwrap_or_else(|p| p.into_inner());
                for tag in &batch {
                    if parked.remove(tag) {
                        release(&mut pending, tag);
                    }
                }
                tracing::info!(
                    delivered = batch.len(),
                    "parked cache invalidations reached Redis"
                );
            }
        }
    }

    /// Applies other instances' invalidations to `l1`, resubscribing after a failure.
    async fn listen(self, l1: Vec<Arc<ResponseStore>>) {
        loop {
            match self.inner.client.get_async_pubsub().await {
                Ok(mut pubsub) => match pubsub.subscribe(self.key("invalidations")).await {
                    Ok(()) => {
                        // Whatever L1 holds may have missed invalidations while we were deaf.
                        for store in &l1 {
                            store.invalidate_all();
                        }
                        self.inner.subscribed.store(true, Ordering::SeqCst);
                        // Parked invalidations go out now rather than at the next tick.
                        self.inner.resend.notify_one();
                        tracing::info!("cache L2 (Redis) subscribed to invalidations");
                        let mut messages = pubsub.on_message();
                        while let Some(message) = messages.next().await {
                            let Ok(payload) = message.get_payload::<String>() else {
                                continue;
                            };
                            let tags: Vec<String> = payload.lines().map(str::to_owned).collect();
                            for store in &l1 {
                                store.invalidate(&tags);
                            }
                        }
                        failed("subscribe", "invalidation channel closed");
                    }
                    Err(e) => failed("subscribe", e),
                },
                Err(e) => failed("subscribe", e),
            }
            self.inner.subscribed.store(false, Ordering::SeqCst);
            tokio::time::sleep(RETRY).await;
        }
    }
}
