//! The catalog cache in process memory (embedded mode) in front of a fresh SQLite store per
//! test. Every test holds `conformance::serial()`: they assert exact moves of process-wide
//! counters.

mod common;

use std::sync::Arc;

use polygate_catalog::cache::{CacheBackend, MemoryBackend, conformance};
use polygate_catalog::store::CatalogStore;

async fn store() -> Arc<dyn CatalogStore> {
    common::sqlite_store().await
}

fn memory() -> Arc<dyn CacheBackend> {
    Arc::new(MemoryBackend::new(10_000))
}

macro_rules! checks {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let _serial = conformance::serial().await;
                conformance::$check(store().await, memory()).await;
            }
        )*
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

#[tokio::test]
async fn a_full_memory_cache_drops_its_oldest_entries() {
    let backend = MemoryBackend::new(2);
    let ttl = std::time::Duration::from_secs(60);
    for key in ["a", "b", "c"] {
        backend
            .put_many(vec![(key.to_owned(), vec![1], ttl)])
            .await
            .unwrap();
    }
    let keys = ["a", "b", "c"].map(str::to_owned);
    let found = backend.get_many(&keys).await.unwrap();
    assert_eq!(found, [None, Some(vec![1]), Some(vec![1])]);
    assert_eq!(backend.len(), 2);
}

#[tokio::test]
async fn a_memory_entry_expires_after_its_ttl() {
    let backend = MemoryBackend::new(10);
    let ttl = std::time::Duration::from_millis(30);
    backend
        .put_many(vec![("k".into(), vec![1], ttl)])
        .await
        .unwrap();
    assert_eq!(
        backend.get_many(&["k".into()]).await.unwrap(),
        [Some(vec![1])]
    );
    tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    assert_eq!(backend.get_many(&["k".into()]).await.unwrap(), [None]);
}
