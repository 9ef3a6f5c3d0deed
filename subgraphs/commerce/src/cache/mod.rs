//! Cache-aside for product reads (prices and stock included): the [`ProductCache`] port, its
//! adapters ([`MemoryProductCache`] in embedded mode, [`RedisProductCache`] in the cloud) and the
//! [`CachingStore`] decorator that puts it in front of any [`CommerceStore`].
//!
//! Non-obvious decision: a fill carries a [`FillTicket`] taken *before* the store read, and the
//! cache refuses to store a product that was invalidated after that ticket. That closes the
//! classic cache-aside race (a reader loads the old row, a writer commits and invalidates, then
//! the reader puts the old row back) instead of leaving it to the TTL:
//! - in the memory cache, the fence check and the insert share the lock that invalidation takes,
//!   so the race is closed completely;
//! - in Redis, the fence is kept per process. A fill in this process can still lose a race only
//!   in the microseconds between its fence check and its `SET` reaching Redis; a fill in another
//!   process does not see this process's invalidations at all. Both leave a stale entry for at
//!   most the TTL ([`CacheSettings::ttl`], 60 s by default), which is the staleness bound of the
//!   Redis cache — as is a `DEL` that failed because Redis was unreachable.
//!
//! Stale reads can only show a price or a stock level: orders never trust the cache, because
//! `reserve_stock` fixes prices and holds stock in the store itself.
//!
//! Construct with [`with_cache`] from a URL (`memory`, `redis://…`, `redis-cluster://…`, `off`),
//! or [`CachingStore::new`] from parts.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::Product;
use crate::ids::ProductId;
use crate::store::CommerceStore;

mod caching_store;
pub mod conformance;
mod memory;
mod redis;

pub use caching_store::{CACHE_NAME, CachingStore};
pub use memory::MemoryProductCache;
pub use redis::{CLUSTER_SCHEME, DEFAULT_PREFIX, RedisProductCache};

/// A cache failure. Never reaches a reader: [`CachingStore`] logs it and asks the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// The cache could not be reached, did not answer in time, or answered with an error.
    #[error("product cache unavailable: {0}")]
    Unavailable(String),
    /// The cache URL or settings are unusable (a start-up error, not a run-time one).
    #[error("invalid product cache configuration: {0}")]
    InvalidConfig(String),
}

/// How long entries live and how big the cache may grow.
#[derive(Debug, Clone)]
pub struct CacheSettings {
    /// Life of an entry. Invalidation is what keeps entries fresh; the TTL only bounds how long
    /// a missed invalidation (see the module doc) can show a stale price or stock level.
    pub ttl: Duration,
    /// Memory cache only: most products held; the oldest entry goes first when full. Redis is
    /// bounded by its `maxmemory` (every key has a TTL, so `volatile-*` policies apply).
    pub max_entries: usize,
    /// Redis only: the key prefix, versioned so a change of the JSON format can coexist.
    pub prefix: String,
    /// Redis only: longest one cache call may take before the store is asked instead.
    pub call_timeout: Duration,
    /// Redis only: longest a connection attempt may take; after a failed one the cache is
    /// skipped (reads go to the store) for [`CacheSettings::retry_after`].
    pub connect_timeout: Duration,
    /// Redis only: how long to skip the cache after a failed connection attempt.
    pub retry_after: Duration,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(60),
            max_entries: 10_000,
            prefix: DEFAULT_PREFIX.to_owned(),
            call_timeout: Duration::from_millis(250),
            connect_timeout: Duration::from_secs(1),
            retry_after: Duration::from_secs(1),
        }
    }
}

/// Where a cache's invalidation history stood when a reader was about to read the store. See
/// the module doc: a fill presents it, and products invalidated since are not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FillTicket(u64);

/// Cached products by id: the port [`CachingStore`] reads through.
///
/// Adapters never cache absence (a product that does not exist is always a miss), and hold
/// whole [`Product`] documents, so one entry answers any currency.
#[async_trait]
pub trait ProductCache: Send + Sync {
    /// The current point of this cache's invalidation history; take it before reading the
    /// store for a later [`ProductCache::put_many`].
    fn ticket(&self) -> FillTicket;
    /// The cached products among `ids`, by id; absent ids are misses.
    async fn get_many(&self, ids: &[ProductId]) -> Result<HashMap<ProductId, Product>, CacheError>;
    /// Stores `products`, read from the store after `ticket` was taken, except those
    /// invalidated since `ticket` (their read may predate the write that invalidated them).
    async fn put_many(&self, products: &[Product], ticket: FillTicket) -> Result<(), CacheError>;
    /// Drops `ids` and refuses fills of them holding a ticket from before this call.
    async fn invalidate(&self, ids: &[ProductId]) -> Result<(), CacheError>;
    /// `memory`, `redis` or `redis-cluster`, for logs.
    fn kind(&self) -> &'static str;
}

/// Opens the cache a URL names: `memory`, `redis://…` / `rediss://…` (standalone) or
/// `redis-cluster://[user:password@]host:port,host:port,…` (`rediss-cluster://` over TLS).
///
/// Redis is connected lazily: an unreachable Redis does not stop the process from starting
/// (reads go to the store until it answers); only a malformed URL is an error.
pub fn open(url: &str, settings: &CacheSettings) -> Result<Arc<dyn ProductCache>, CacheError> {
    if url == "memory" {
        Ok(Arc::new(MemoryProductCache::new(settings)))
    } else if url.starts_with("redis://")
        || url.starts_with("rediss://")
        || polygate_kit::redis::is_cluster_url(url)
    {
        Ok(Arc::new(RedisProductCache::new(url, settings)?))
    } else {
        Err(CacheError::InvalidConfig(format!(
            "unsupported product cache URL {:?}: use memory, redis://… or {CLUSTER_SCHEME}…",
            crate::redact(url)
        )))
    }
}

/// `store` behind the cache `cache_url` names (see [`open`]), or `store` itself for `off`.
pub fn with_cache(
    store: Arc<dyn CommerceStore>,
    cache_url: &str,
    settings: &CacheSettings,
) -> Result<Arc<dyn CommerceStore>, CacheError> {
    if cache_url == "off" {
        return Ok(store);
    }
    let cache = open(cache_url, settings)?;
    Ok(Arc::new(CachingStore::new(store, cache)))
}

/// The last invalidation of every stripe of product ids, on one logical clock: what
/// [`FillTicket`]s are checked against. A fixed table of stripes rather than a map of ids keeps
/// it bounded without any clean-up; two ids sharing a stripe only cost a refused fill.
struct Fence {
    clock: AtomicU64,
    stripes: Box<[AtomicU64]>,
}

impl Fence {
    const STRIPE_BITS: u32 = 12;

    fn new() -> Self {
        Self {
            clock: AtomicU64::new(0),
            stripes: (0..1 << Self::STRIPE_BITS)
                .map(|_| AtomicU64::new(0))
                .collect(),
        }
    }

    fn ticket(&self) -> FillTicket {
        FillTicket(self.clock.load(Ordering::SeqCst))
    }

    /// Records an invalidation of `ids`, later than every ticket handed out so far.
    fn invalidate(&self, ids: &[ProductId]) {
        let tick = self.clock.fetch_add(1, Ordering::SeqCst) + 1;
        for id in ids {
            self.stripe(*id).fetch_max(tick, Ordering::SeqCst);
        }
    }

    /// Whether `id` was not invalidated since `ticket` was taken.
    fn admits(&self, id: ProductId, ticket: FillTicket) -> bool {
        self.stripe(id).load(Ordering::SeqCst) <= ticket.0
    }

    fn stripe(&self, id: ProductId) -> &AtomicU64 {
        // Fibonacci hashing: ids differ mostly in their low (sequence) and middle (time) bits.
        let hash = (id.as_i64() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        &self.stripes[(hash >> (64 - Self::STRIPE_BITS)) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(raw: i64) -> ProductId {
        ProductId::from_i64(raw).unwrap()
    }

    #[test]
    fn a_fence_refuses_fills_older_than_an_invalidation() {
        let fence = Fence::new();
        let before = fence.ticket();
        fence.invalidate(&[id(7)]);
        let after = fence.ticket();
        assert!(!fence.admits(id(7), before));
        assert!(fence.admits(id(7), after));
        assert!(fence.admits(id(8), before), "other stripes are untouched");
    }

    #[test]
    fn unknown_cache_urls_are_refused_without_their_password() {
        let err = open("memcached://u:pw@h:1", &CacheSettings::default())
            .err()
            .expect("refused");
        assert!(matches!(err, CacheError::InvalidConfig(_)), "{err}");
        assert!(!err.to_string().contains("pw"), "{err}");
    }
}
