//! The in-process product cache of embedded mode: a map bounded by entry count and TTL.
//!
//! Non-obvious: eviction is first-in, first-out over a queue of insertions. Every entry lives
//! the same TTL, so the oldest insertion is also the first to expire, and one queue serves both
//! expiry and the size bound in O(1) per operation, without an LRU's bookkeeping on every hit.
//! Catalog reads by id are dominated by a hot set that is refilled right after eviction, so FIFO
//! loses little against LRU here. The fence check and the insert run under the lock that
//! invalidation takes, so a fill can never put back a product invalidated after its ticket.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{CacheError, CacheSettings, Fence, FillTicket, ProductCache};
use crate::domain::Product;
use crate::ids::ProductId;

pub struct MemoryProductCache {
    inner: Mutex<Inner>,
    fence: Fence,
    ttl: Duration,
    max_entries: usize,
}

struct Inner {
    entries: HashMap<ProductId, Entry>,
    /// Insertions, oldest first, as `(id, stamp)`; a stamp that no longer matches its entry's
    /// (the entry was replaced or dropped) is skipped and compacted away.
    queue: VecDeque<(ProductId, u64)>,
    next_stamp: u64,
}

struct Entry {
    product: Product,
    expires_at: Instant,
    stamp: u64,
}

impl MemoryProductCache {
    /// Uses `settings.ttl` and `settings.max_entries` (at least 1).
    pub fn new(settings: &CacheSettings) -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                queue: VecDeque::new(),
                next_stamp: 0,
            }),
            fence: Fence::new(),
            ttl: settings.ttl,
            max_entries: settings.max_entries.max(1),
        }
    }

    /// Products held now, expired ones included until they are swept.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic under the lock leaves a consistent map (every step is a whole insert or
        // remove), so a poisoned lock is still safe to use.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Inner {
    fn insert(&mut self, product: Product, expires_at: Instant, max_entries: usize) {
        let stamp = self.next_stamp;
        self.next_stamp += 1;
        self.queue.push_back((product.id, stamp));
        self.entries.insert(
            product.id,
            Entry {
                product,
                expires_at,
                stamp,
            },
        );
        self.sweep(Instant::now(), max_entries);
    }

    /// Drops expired entries from the front, then the oldest while over `max_entries`, and
    /// compacts the queue when stale stamps outnumber live entries.
    fn sweep(&mut self, now: Instant, max_entries: usize) {
        while let Some(&(id, stamp)) = self.queue.front() {
            let live = self.entries.get(&id).filter(|e| e.stamp == stamp);
            match live {
                None => {}
                Some(entry) if entry.expires_at <= now || self.entries.len() > max_entries => {
                    self.entries.remove(&id);
                }
                Some(_) => break,
            }
            self.queue.pop_front();
        }
        if self.queue.len() > 2 * max_entries + 64 {
            let entries = &self.entries;
            self.queue
                .retain(|(id, stamp)| entries.get(id).is_some_and(|e| e.stamp == *stamp));
        }
    }
}

#[async_trait]
impl ProductCache for MemoryProductCache {
    fn ticket(&self) -> FillTicket {
        self.fence.ticket()
    }

    async fn get_many(&self, ids: &[ProductId]) -> Result<HashMap<ProductId, Product>, CacheError> {
        let now = Instant::now();
        let mut inner = self.lock();
        let mut found = HashMap::with_capacity(ids.len());
        for id in ids {
            match inner.entries.get(id) {
                Some(entry) if entry.expires_at > now => {
                    found.insert(*id, entry.product.clone());
                }
                Some(_) => {
                    inner.entries.remove(id);
                }
                None => {}
            }
        }
        Ok(found)
    }

    async fn put_many(&self, products: &[Product], ticket: FillTicket) -> Result<(), CacheError> {
        let expires_at = Instant::now() + self.ttl;
        let mut inner = self.lock();
        for product in products {
            if self.fence.admits(product.id, ticket) {
                inner.insert(product.clone(), expires_at, self.max_entries);
            }
        }
        Ok(())
    }

    async fn invalidate(&self, ids: &[ProductId]) -> Result<(), CacheError> {
        let mut inner = self.lock();
        self.fence.invalidate(ids);
        for id in ids {
            inner.entries.remove(id);
        }
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Currency, Money, ProductName, Sku};

    fn product(raw_id: i64, amount_minor: i64) -> Product {
        Product {
            id: ProductId::from_i64(raw_id).unwrap(),
            sku: Sku::parse(&format!("SKU-{raw_id}")).unwrap(),
            name: ProductName::parse("Mug").unwrap(),
            description: String::new(),
            category: None,
            active: true,
            prices: vec![Money::new(amount_minor, Currency::usd()).unwrap()],
            available: 3,
            created_at: chrono::Utc::now(),
        }
    }

    fn cache(ttl: Duration, max_entries: usize) -> MemoryProductCache {
        MemoryProductCache::new(&CacheSettings {
            ttl,
            max_entries,
            ..CacheSettings::default()
        })
    }

    async fn cached_ids(cache: &MemoryProductCache, raw: &[i64]) -> Vec<i64> {
        let ids: Vec<ProductId> = raw
            .iter()
            .map(|r| ProductId::from_i64(*r).unwrap())
            .collect();
        let mut found: Vec<i64> = cache
            .get_many(&ids)
            .await
            .unwrap()
            .keys()
            .map(|id| id.as_i64())
            .collect();
        found.sort_unstable();
        found
    }

    #[tokio::test]
    async fn a_full_cache_drops_its_oldest_entry() {
        let cache = cache(Duration::from_secs(60), 2);
        for raw in 1..=3 {
            cache
                .put_many(&[product(raw, 100)], cache.ticket())
                .await
                .unwrap();
        }
        assert_eq!(cached_ids(&cache, &[1, 2, 3]).await, [2, 3]);
        assert_eq!(cache.len(), 2);
    }

    #[tokio::test]
    async fn entries_expire_after_the_ttl() {
        let cache = cache(Duration::from_millis(30), 10);
        cache
            .put_many(&[product(1, 100)], cache.ticket())
            .await
            .unwrap();
        assert_eq!(cached_ids(&cache, &[1]).await, [1]);
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(cached_ids(&cache, &[1]).await.is_empty());
        assert!(cache.is_empty(), "an expired entry is dropped when read");
    }

    #[tokio::test]
    async fn a_fill_that_an_invalidation_overtook_is_refused() {
        let cache = cache(Duration::from_secs(60), 10);
        let ticket = cache.ticket();
        let old = product(1, 100);
        cache.invalidate(&[old.id]).await.unwrap();
        cache
            .put_many(&[old.clone(), product(2, 5)], ticket)
            .await
            .unwrap();
        assert_eq!(cached_ids(&cache, &[1, 2]).await, [2]);
        cache.put_many(&[old], cache.ticket()).await.unwrap();
        assert_eq!(cached_ids(&cache, &[1, 2]).await, [1, 2]);
    }

    #[tokio::test]
    async fn refilling_one_product_does_not_grow_the_queue_without_bound() {
        let cache = cache(Duration::from_secs(60), 4);
        for _ in 0..1_000 {
            cache
                .put_many(&[product(1, 100)], cache.ticket())
                .await
                .unwrap();
        }
        assert!(cache.lock().queue.len() <= 2 * 4 + 64 + 1);
        assert_eq!(cached_ids(&cache, &[1]).await, [1]);
    }
}
