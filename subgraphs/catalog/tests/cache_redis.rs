//! The catalog cache in Redis — standalone at `POLYGATE_TEST_REDIS_URL`, cluster at
//! `POLYGATE_TEST_REDIS_CLUSTER_URL` (each skipped with a printed reason when unset, and failing
//! under CI) — in front of a fresh SQLite store per test, plus a Redis that is down. Each test
//! has its own key prefix; all hold `conformance::serial()` (process-wide counters).

mod common;

use std::sync::Arc;

use polygate_catalog::cache::{
    CacheBackend, CacheSettings, CachingStore, PRODUCT_CACHE, RedisBackend, conformance,
};
use polygate_catalog::store::CatalogStore;
use polygate_catalog::store::conformance::{content, put, read, unique_sku};
use polygate_kit::testing::server_url;

async fn store() -> Arc<dyn CatalogStore> {
    common::sqlite_store().await
}

fn redis(var: &str) -> Option<Arc<dyn CacheBackend>> {
    let url = server_url(var)?;
    Some(Arc::new(
        RedisBackend::new(&url, &CacheSettings::default()).expect("a valid Redis URL"),
    ))
}

macro_rules! checks {
    ($($check:ident),* $(,)?) => {
        mod on_standalone {
            use super::*;
            $(
                #[tokio::test]
                async fn $check() {
                    let _serial = conformance::serial().await;
                    let Some(backend) = redis("POLYGATE_TEST_REDIS_URL") else { return };
                    conformance::$check(store().await, backend).await;
                }
            )*
        }
        mod on_cluster {
            use super::*;
            $(
                #[tokio::test]
                async fn $check() {
                    let _serial = conformance::serial().await;
                    let Some(backend) = redis("POLYGATE_TEST_REDIS_CLUSTER_URL") else { return };
                    conformance::$check(store().await, backend).await;
                }
            )*
        }
    };
}

checks!(
    a_second_read_is_a_hit_and_skips_the_store,
    every_write_shows_on_the_next_read,
    search_pages_are_cached_until_a_content_write,
    concurrent_misses_of_one_product_load_it_once,
    a_fill_overtaken_by_a_write_is_refused,
    reads_abandoned_mid_load_give_their_connections_back,
);

/// A product document is one key with a TTL within ±10 % of the configured one.
#[tokio::test]
async fn a_cached_product_is_one_key_with_a_jittered_ttl() {
    let _serial = conformance::serial().await;
    let Some(url) = server_url("POLYGATE_TEST_REDIS_URL") else {
        return;
    };
    let settings = CacheSettings {
        product_ttl: std::time::Duration::from_secs(100),
        ..conformance::settings()
    };
    let backend = Arc::new(RedisBackend::new(&url, &settings).unwrap());
    let store = store().await;
    let sku = unique_sku("TTL");
    put(store.as_ref(), content(&sku, &[], None, vec![], vec![])).await;
    let cache = CachingStore::new(store, backend, settings);
    read(&cache, &sku).await.unwrap();

    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let ttl_ms: i64 = redis::cmd("PTTL")
        .arg(cache.product_key(&sku))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((89_000..=110_000).contains(&ttl_ms), "PTTL {ttl_ms}");
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// With Redis down, reads and writes still succeed from the store; each look-up counts as an
/// error.
#[tokio::test]
async fn a_redis_outage_falls_back_to_the_store() {
    let _serial = conformance::serial().await;
    for url in [
        format!("redis://127.0.0.1:{}", closed_port()),
        format!("redis-cluster://127.0.0.1:{}", closed_port()),
    ] {
        let backend = Arc::new(RedisBackend::new(&url, &CacheSettings::default()).unwrap());
        let store = store().await;
        let sku = unique_sku("DOWN");
        let cache = CachingStore::new(store, backend, conformance::settings());
        cache
            .upsert_content(content(&sku, &[], None, vec![], vec![]), conformance_time())
            .await
            .expect("a write does not fail because its invalidation did");
        let (_, _, errors) = conformance::lookups(PRODUCT_CACHE);
        for _ in 0..3 {
            assert!(
                read(&cache, &sku).await.is_some(),
                "{url}: the store answers"
            );
        }
        assert_eq!(conformance::lookups(PRODUCT_CACHE).2, errors + 3, "{url}");
    }
}

fn conformance_time() -> chrono::DateTime<chrono::Utc> {
    polygate_catalog::store::conformance::at(0)
}
