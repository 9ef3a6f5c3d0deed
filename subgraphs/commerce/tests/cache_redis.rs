//! The product cache in Redis — standalone at `POLYGATE_TEST_REDIS_URL`, cluster at
//! `POLYGATE_TEST_REDIS_CLUSTER_URL` (each skipped with a printed reason when unset, and failing
//! under CI) — in front of a fresh SQLite store per test, plus a Redis that is down.
//! Each test has its own key prefix; all hold `conformance::serial()` (process-wide counters).

mod common;

use std::sync::Arc;
use std::time::Duration;

use polygate_commerce::CommerceStore;
use polygate_commerce::cache::{
    CacheSettings, CachingStore, ProductCache, RedisProductCache, conformance,
};
use polygate_commerce::domain::Product;
use polygate_kit::testing::{server_url, unique_name};

const URL_VAR: &str = "POLYGATE_TEST_REDIS_URL";
const CLUSTER_URL_VAR: &str = "POLYGATE_TEST_REDIS_CLUSTER_URL";

async fn store() -> Arc<dyn CommerceStore> {
    common::sqlite_store().await
}

fn settings() -> CacheSettings {
    CacheSettings {
        prefix: unique_name("pc"),
        ..CacheSettings::default()
    }
}

fn redis_cache(url: &str, settings: &CacheSettings) -> Arc<RedisProductCache> {
    Arc::new(RedisProductCache::new(url, settings).expect("a valid Redis URL"))
}

/// A cache on the test Redis (standalone), or `None` (skip) when it is not configured.
fn standalone() -> Option<Arc<dyn ProductCache>> {
    let url = server_url(URL_VAR)?;
    Some(redis_cache(&url, &settings()))
}

/// A cache on the test Redis Cluster, or `None` (skip) when it is not configured.
fn cluster() -> Option<Arc<dyn ProductCache>> {
    let url = server_url(CLUSTER_URL_VAR)?;
    Some(redis_cache(&url, &settings()))
}

/// One test per conformance check, on standalone and on cluster.
macro_rules! checks {
    ($($check:ident),* $(,)?) => {
        mod on_standalone {
            use super::*;
            $(
                #[tokio::test]
                async fn $check() {
                    let _serial = conformance::serial().await;
                    let Some(cache) = standalone() else { return };
                    conformance::$check(store().await, cache).await;
                }
            )*
        }
        mod on_cluster {
            use super::*;
            $(
                #[tokio::test]
                async fn $check() {
                    let _serial = conformance::serial().await;
                    let Some(cache) = cluster() else { return };
                    conformance::$check(store().await, cache).await;
                }
            )*
        }
    };
}

checks!(
    a_second_read_is_a_hit_and_skips_the_store,
    a_batch_reads_only_its_misses_from_the_store,
    a_price_change_shows_on_the_next_read,
    stock_changes_show_on_the_next_read,
    a_fill_overtaken_by_a_write_is_refused,
    reads_by_sku_fill_the_cache,
);

/// A product is one JSON string at `<prefix>:p:<id>` that expires after the TTL.
#[tokio::test]
async fn a_product_is_one_json_key_that_expires() {
    let _serial = conformance::serial().await;
    let Some(url) = server_url(URL_VAR) else {
        return;
    };
    let settings = CacheSettings {
        ttl: Duration::from_millis(400),
        ..settings()
    };
    let cache = redis_cache(&url, &settings);
    let store = store().await;
    let product = conformance::new_product(store.as_ref(), 990).await;
    let cached = CachingStore::new(store, cache.clone());
    conformance::read_one(&cached, product.id).await;

    let key = format!("{}:p:{}", settings.prefix, product.id);
    assert_eq!(cache.key(product.id), key);
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let json: String = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(serde_json::from_str::<Product>(&json).unwrap(), product);
    let ttl_ms: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((1..=400).contains(&ttl_ms), "PTTL {ttl_ms}");

    tokio::time::sleep(Duration::from_millis(500)).await;
    let exists: i64 = redis::cmd("EXISTS")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(exists, 0, "expired");
}

/// Products spread over cluster slots are read with one `MGET` and dropped with one `DEL`,
/// which the cluster client splits by slot.
#[tokio::test]
async fn a_cluster_reads_and_invalidates_products_across_slots() {
    let _serial = conformance::serial().await;
    let Some(cache) = cluster() else {
        return;
    };
    let store = store().await;
    let mut products = Vec::new();
    for price in 1..=12 {
        products.push(conformance::new_product(store.as_ref(), price * 100).await);
    }
    let ids: Vec<_> = products.iter().map(|p| p.id).collect();
    cache.put_many(&products, cache.ticket()).await.unwrap();
    let found = cache.get_many(&ids).await.unwrap();
    assert_eq!(found.len(), products.len());
    for product in &products {
        assert_eq!(found.get(&product.id), Some(product));
    }
    cache.invalidate(&ids).await.unwrap();
    assert!(cache.get_many(&ids).await.unwrap().is_empty());
}

/// A port nothing listens on, for a Redis that is down.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// With Redis down, reads and writes still succeed from the store; each look-up counts as an
/// error, and the cache is skipped (no new connection attempt) for `retry_after`.
#[tokio::test]
async fn a_redis_outage_falls_back_to_the_store() {
    let _serial = conformance::serial().await;
    for url in [
        format!("redis://127.0.0.1:{}", closed_port()),
        format!("redis-cluster://127.0.0.1:{}", closed_port()),
    ] {
        let store = store().await;
        let product = conformance::new_product(store.as_ref(), 1_000).await;
        let cached = CachingStore::new(store, redis_cache(&url, &settings()));

        let (hits, misses, errors) = conformance::lookups();
        let reads = conformance::store_reads();
        for _ in 0..3 {
            assert_eq!(conformance::read_one(&cached, product.id).await, product);
        }
        assert_eq!(
            conformance::store_reads(),
            reads + 3,
            "{url}: the store answers"
        );
        assert_eq!(conformance::lookups(), (hits, misses, errors + 3), "{url}");

        cached
            .set_price(product.id, conformance::usd(1_100))
            .await
            .expect("a write does not fail because its invalidation did");
        let after = conformance::read_one(&cached, product.id).await;
        assert_eq!(after.prices, [conformance::usd(1_100)], "{url}");
    }
}

/// A malformed URL is a start-up error; an unreachable Redis is not.
#[test]
fn only_a_malformed_url_is_refused() {
    let settings = CacheSettings::default();
    assert!(RedisProductCache::new("redis://127.0.0.1:1", &settings).is_ok());
    assert!(RedisProductCache::new("redis-cluster://127.0.0.1:1,127.0.0.1:2", &settings).is_ok());
    assert!(RedisProductCache::new("redis-cluster://", &settings).is_err());
    assert!(RedisProductCache::new("redis://127.0.0.1:port", &settings).is_err());
}
