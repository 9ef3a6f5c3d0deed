//! The product cache of embedded mode (in memory) in front of a fresh SQLite store per test.
//! Every test holds `conformance::serial()`: they assert exact moves of process-wide counters.

mod common;

use std::sync::Arc;
use std::time::Duration;

use polygate_commerce::cache::{
    CacheSettings, CachingStore, MemoryProductCache, ProductCache, conformance,
};
use polygate_commerce::{CommerceStore, with_cache};

async fn store() -> Arc<dyn CommerceStore> {
    common::sqlite_store().await
}

fn cache(settings: &CacheSettings) -> Arc<dyn ProductCache> {
    Arc::new(MemoryProductCache::new(settings))
}

fn default_cache() -> Arc<dyn ProductCache> {
    cache(&CacheSettings::default())
}

#[tokio::test]
async fn a_second_read_is_a_hit_and_skips_the_store() {
    let _serial = conformance::serial().await;
    conformance::a_second_read_is_a_hit_and_skips_the_store(store().await, default_cache()).await;
}

#[tokio::test]
async fn a_batch_reads_only_its_misses_from_the_store() {
    let _serial = conformance::serial().await;
    conformance::a_batch_reads_only_its_misses_from_the_store(store().await, default_cache()).await;
}

#[tokio::test]
async fn a_price_change_shows_on_the_next_read() {
    let _serial = conformance::serial().await;
    conformance::a_price_change_shows_on_the_next_read(store().await, default_cache()).await;
}

#[tokio::test]
async fn restocking_reserving_and_releasing_show_on_the_next_read() {
    let _serial = conformance::serial().await;
    conformance::stock_changes_show_on_the_next_read(store().await, default_cache()).await;
}

#[tokio::test]
async fn a_fill_overtaken_by_a_write_is_refused() {
    let _serial = conformance::serial().await;
    conformance::a_fill_overtaken_by_a_write_is_refused(store().await, default_cache()).await;
}

#[tokio::test]
async fn reads_by_sku_fill_the_cache() {
    let _serial = conformance::serial().await;
    conformance::reads_by_sku_fill_the_cache(store().await, default_cache()).await;
}

#[tokio::test]
async fn a_full_cache_evicts_its_oldest_product_which_is_then_read_from_the_store() {
    let _serial = conformance::serial().await;
    let store = store().await;
    let mut products = Vec::new();
    for price in [100, 200, 300] {
        products.push(conformance::new_product(store.as_ref(), price).await);
    }
    let memory = Arc::new(MemoryProductCache::new(&CacheSettings {
        max_entries: 2,
        ..CacheSettings::default()
    }));
    let cached = CachingStore::new(store, memory.clone());
    for product in &products {
        conformance::read_one(&cached, product.id).await;
    }
    assert_eq!(memory.len(), 2, "bounded");

    let reads = conformance::store_reads();
    conformance::read_one(&cached, products[2].id).await;
    assert_eq!(
        conformance::store_reads(),
        reads,
        "the newest is still cached"
    );
    conformance::read_one(&cached, products[0].id).await;
    assert_eq!(
        conformance::store_reads(),
        reads + 1,
        "the oldest was evicted"
    );
}

#[tokio::test]
async fn an_expired_product_is_read_from_the_store_again() {
    let _serial = conformance::serial().await;
    let store = store().await;
    let product = conformance::new_product(store.as_ref(), 100).await;
    let settings = CacheSettings {
        ttl: Duration::from_millis(50),
        ..CacheSettings::default()
    };
    let cached = CachingStore::new(store, cache(&settings));
    conformance::read_one(&cached, product.id).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    let reads = conformance::store_reads();
    conformance::read_one(&cached, product.id).await;
    assert_eq!(conformance::store_reads(), reads + 1);
}

#[tokio::test]
async fn the_cache_url_memory_builds_a_caching_store_and_off_builds_none() {
    let _serial = conformance::serial().await;
    let store = store().await;
    let product = conformance::new_product(store.as_ref(), 100).await;
    let cached = with_cache(store.clone(), "memory", &CacheSettings::default()).unwrap();
    conformance::read_one(cached.as_ref(), product.id).await;
    let reads = conformance::store_reads();
    conformance::read_one(cached.as_ref(), product.id).await;
    assert_eq!(conformance::store_reads(), reads);

    let plain = with_cache(store.clone(), "off", &CacheSettings::default()).unwrap();
    assert!(Arc::ptr_eq(&plain, &store));
    assert!(with_cache(store, "memcached://h:1", &CacheSettings::default()).is_err());
}

/// The wrapper keeps every promise of the port: the whole store conformance suite passes
/// through it (SKU→id answers from memory included).
#[tokio::test]
async fn every_store_check_passes_through_the_caching_store() {
    let _serial = conformance::serial().await;
    let cached = CachingStore::new(store().await, default_cache());
    polygate_commerce::store::conformance::run_all(&cached).await;
}
