//! Cache-aside in front of any [`CatalogStore`]: product documents by SKU and `catalogSearch`
//! pages, in process memory (embedded) or Redis / Redis Cluster (shared by every catalog
//! process), with jittered TTLs, invalidation on every write and one loader per key.
//!
//! Non-obvious decisions:
//! - A page caches only the SKUs it found, in order; the products come from the product cache.
//!   So a review (which changes one product's rating) drops one product key, not every page.
//! - Pages are keyed under a *generation* kept in the cache itself: a content write (which may
//!   change any page's membership) bumps it, and every page of the old generation becomes
//!   unreachable at once, in every process; they expire by TTL.
//! - Product fills carry a [`Fence`] ticket taken before the store read, and a fill of a product
//!   invalidated after that ticket is refused — the cache-aside race (read old, writer
//!   invalidates, reader puts old back) as commerce's product cache closes it. The fence is per
//!   process; a fill in another process can leave a stale entry for at most the TTL.
//! - Concurrent misses of one key share one store load ([`SingleFlight`]): a hot product whose
//!   entry expires under load costs one store read, not one per waiting request.
//! - The cache can only make reads cheaper, never fail them: a cache error counts as `error` in
//!   the hit ratio and the store answers.

mod backend;
mod caching_store;
pub mod conformance;
mod fence;
mod single_flight;

use std::sync::Arc;
use std::time::Duration;

pub use backend::{CacheBackend, CacheError, MemoryBackend, RedisBackend};
pub use caching_store::{CachingStore, PAGE_CACHE, PRODUCT_CACHE};
pub use fence::{Fence, FillTicket};
pub use single_flight::SingleFlight;

use crate::store::CatalogStore;

/// Key prefix in Redis, versioned so a change of the cached JSON can coexist.
pub const DEFAULT_PREFIX: &str = "cc:v1";

/// TTLs and bounds.
#[derive(Debug, Clone)]
pub struct CacheSettings {
    /// Life of a cached product document, before jitter.
    pub product_ttl: Duration,
    /// Life of a cached search page, before jitter (short: the TTL bounds staleness only when
    /// an invalidation was missed, but pages are cheap to rebuild).
    pub page_ttl: Duration,
    /// Each entry lives its TTL times a random factor in `1 ± jitter`, so entries filled
    /// together do not expire together.
    pub jitter: f64,
    /// Memory backend only: most entries held; the oldest goes first.
    pub max_entries: usize,
    /// Redis only: key prefix.
    pub prefix: String,
    /// Redis only: longest one cache call may take before the store is asked instead.
    pub call_timeout: Duration,
    /// Redis only: after a failed connection attempt the cache is skipped this long.
    pub retry_after: Duration,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            product_ttl: Duration::from_secs(60),
            page_ttl: Duration::from_secs(15),
            jitter: 0.1,
            max_entries: 20_000,
            prefix: DEFAULT_PREFIX.to_owned(),
            call_timeout: Duration::from_millis(250),
            retry_after: Duration::from_secs(1),
        }
    }
}

/// `ttl` times a random factor in `1 ± jitter`.
pub fn jittered(ttl: Duration, jitter: f64) -> Duration {
    let factor = 1.0 + jitter * (rand::random::<f64>() * 2.0 - 1.0);
    ttl.mul_f64(factor.max(0.01))
}

/// `store` behind the cache `url` names (`embedded`, `redis://…`, `redis-cluster://…`), or
/// `store` itself for `off`.
pub fn with_cache(
    store: Arc<dyn CatalogStore>,
    url: &str,
    settings: &CacheSettings,
) -> Result<Arc<dyn CatalogStore>, CacheError> {
    let backend: Arc<dyn CacheBackend> = match url {
        "off" => return Ok(store),
        "embedded" => Arc::new(MemoryBackend::new(settings.max_entries)),
        _ => Arc::new(RedisBackend::new(url, settings)?),
    };
    Ok(Arc::new(CachingStore::new(
        store,
        backend,
        settings.clone(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_its_band() {
        let ttl = Duration::from_secs(100);
        for _ in 0..1_000 {
            let t = jittered(ttl, 0.1);
            assert!(
                t >= Duration::from_secs(90) && t <= Duration::from_secs(110),
                "{t:?}"
            );
        }
    }
}
