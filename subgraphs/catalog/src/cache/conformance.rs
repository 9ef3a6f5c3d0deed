//! Behaviour a [`CachingStore`] over any [`CacheBackend`] must show, as plain async checks that
//! panic on failure; `tests/cache_memory.rs` and `tests/cache_redis.rs` run them over a fresh
//! SQLite store each.
//!
//! Non-obvious: the checks assert exact changes of process-wide counters (store calls, cache
//! look-ups), so a test binary must run them one at a time: hold [`serial`] for the whole check.

use std::sync::Arc;

use polygate_kit::metrics::{CACHE_LOOKUPS, store_calls};
use polygate_kit::testing::unique_name;
use tokio::sync::{Mutex, MutexGuard};

use super::{CacheBackend, CacheSettings, CachingStore, PAGE_CACHE, PRODUCT_CACHE};
use crate::domain::{AttributeFilter, FilterOp, NewReview, SearchQuery, UserRef};
use crate::store::CatalogStore;
use crate::store::conformance::{
    at, content, put, read, text, unique_category, unique_key, unique_sku,
};

/// Held by a test while it reads or moves the process-wide counters.
pub async fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::const_new(());
    LOCK.lock().await
}

/// Look-ups of `cache` so far: `(hit, miss, error)`.
pub fn lookups(cache: &str) -> (u64, u64, u64) {
    let count = |result: &str| CACHE_LOOKUPS.with_label_values(&[cache, result]).get();
    (count("hit"), count("miss"), count("error"))
}

/// Store calls of `operation` so far (any engine).
pub fn calls(operation: &str) -> u64 {
    store_calls(crate::NAME, operation)
}

/// Settings with a prefix no other check uses.
pub fn settings() -> CacheSettings {
    CacheSettings {
        prefix: unique_name("cc"),
        ..CacheSettings::default()
    }
}

fn cached(store: Arc<dyn CatalogStore>, backend: Arc<dyn CacheBackend>) -> CachingStore {
    CachingStore::new(store, backend, settings())
}

/// The first read misses and asks the store; the second is a hit and does not; the hit ratio
/// is exported.
pub async fn a_second_read_is_a_hit_and_skips_the_store(
    store: Arc<dyn CatalogStore>,
    backend: Arc<dyn CacheBackend>,
) {
    let sku = unique_sku("CH");
    let written = put(
        store.as_ref(),
        content(&sku, &[], Some(100), vec![], vec![]),
    )
    .await;
    let cache = cached(store, backend);
    let (hits, misses, _) = lookups(PRODUCT_CACHE);
    let before = calls("products_by_skus");
    assert_eq!(read(&cache, &sku).await.unwrap().content, written.content);
    assert_eq!(lookups(PRODUCT_CACHE).1, misses + 1);
    assert_eq!(calls("products_by_skus"), before + 1);
    assert_eq!(read(&cache, &sku).await.unwrap().content, written.content);
    assert_eq!(lookups(PRODUCT_CACHE).0, hits + 1);
    assert_eq!(
        calls("products_by_skus"),
        before + 1,
        "a hit does not read the store"
    );
    let metrics = polygate_kit::metrics::render();
    assert!(metrics.contains(r#"polygate_cache_hit_ratio{cache="catalog_product"}"#));
}

/// A content write, a variant change, a review, a brand rename and a deletion each show on the
/// very next read.
pub async fn every_write_shows_on_the_next_read(
    store: Arc<dyn CatalogStore>,
    backend: Arc<dyn CacheBackend>,
) {
    let sku = unique_sku("CW");
    let cache = cached(store, backend);
    cache
        .upsert_content(content(&sku, &[], None, vec![], vec![]), at(0))
        .await
        .unwrap();
    read(&cache, &sku).await.unwrap();
    read(&cache, &sku).await.unwrap();

    let mut changed = content(&sku, &[], None, vec![], vec![]);
    changed.description = "Updated description.".into();
    cache.upsert_content(changed, at(1)).await.unwrap();
    assert_eq!(
        read(&cache, &sku).await.unwrap().content.description,
        "Updated description."
    );

    let v = crate::store::conformance::variant(&format!("{sku}-1"), "red", 0, 1);
    cache.upsert_variant(&sku, v, at(2)).await.unwrap();
    assert_eq!(read(&cache, &sku).await.unwrap().content.variants.len(), 1);

    let review = NewReview::new(sku.clone(), UserRef("7".into()), 5, "Great", "", at(3)).unwrap();
    cache.add_review(review).await.unwrap();
    assert_eq!(read(&cache, &sku).await.unwrap().rating.count, 1);

    let brand = crate::store::conformance::unique_word("brand");
    let mut branded = content(&sku, &[], None, vec![], vec![]);
    branded.brand = Some(brand.clone());
    cache.upsert_content(branded, at(4)).await.unwrap();
    read(&cache, &sku).await.unwrap();
    cache
        .rename_brand(&brand, "Renamed", 10, at(5))
        .await
        .unwrap();
    let renamed = read(&cache, &sku).await.unwrap();
    assert_eq!(renamed.content.brand.as_deref(), Some("Renamed"));

    cache.delete_content(&sku, at(6)).await.unwrap();
    assert!(read(&cache, &sku).await.is_none());
}

/// A search page is cached (the second search costs no store search); a content write that
/// changes which products match shows on the next search.
pub async fn search_pages_are_cached_until_a_content_write(
    store: Arc<dyn CatalogStore>,
    backend: Arc<dyn CacheBackend>,
) {
    let category = unique_category("cp");
    let key = unique_key("finish");
    let (a, b) = (unique_sku("SA"), unique_sku("SB"));
    let cache = cached(store, backend);
    cache
        .upsert_content(
            content(&a, &[&category], None, vec![text(&key, "matte")], vec![]),
            at(0),
        )
        .await
        .unwrap();
    cache
        .upsert_content(
            content(&b, &[&category], None, vec![text(&key, "gloss")], vec![]),
            at(0),
        )
        .await
        .unwrap();
    let filter = AttributeFilter::new("f", &key, FilterOp::Eq, "matte").unwrap();
    let query =
        SearchQuery::new(None, vec![filter], Some(category.clone()), None, 10, None).unwrap();
    let skus = |products: Vec<crate::domain::CatalogProduct>| -> Vec<String> {
        products.iter().map(|p| p.content.sku.to_string()).collect()
    };

    let before = calls("search");
    let (hits, _, _) = lookups(PAGE_CACHE);
    assert_eq!(skus(cache.search(&query).await.unwrap()), [a.to_string()]);
    assert_eq!(skus(cache.search(&query).await.unwrap()), [a.to_string()]);
    assert_eq!(
        calls("search"),
        before + 1,
        "the second search is a cached page"
    );
    assert_eq!(lookups(PAGE_CACHE).0, hits + 1);

    cache
        .upsert_content(
            content(&b, &[&category], None, vec![text(&key, "matte")], vec![]),
            at(1),
        )
        .await
        .unwrap();
    let mut found = skus(cache.search(&query).await.unwrap());
    found.sort();
    let mut want = vec![a.to_string(), b.to_string()];
    want.sort();
    assert_eq!(found, want, "the write invalidated the page");
    assert_eq!(calls("search"), before + 2);
}

/// Twenty concurrent reads of one product that is not cached cost one store read.
pub async fn concurrent_misses_of_one_product_load_it_once(
    store: Arc<dyn CatalogStore>,
    backend: Arc<dyn CacheBackend>,
) {
    let sku = unique_sku("CS");
    put(store.as_ref(), content(&sku, &[], None, vec![], vec![])).await;
    let cache = Arc::new(cached(store, backend));
    let before = calls("products_by_skus");
    let reads = (0..20).map(|_| {
        let cache = cache.clone();
        let sku = sku.clone();
        async move { read(cache.as_ref(), &sku).await }
    });
    let results = futures::future::join_all(reads).await;
    assert!(results.iter().all(|r| r.is_some()));
    assert_eq!(
        calls("products_by_skus"),
        before + 1,
        "one loader for the key"
    );
}

/// The cache-aside race: a reader loads the old document, a writer commits and invalidates,
/// then the reader's fill arrives. It is refused, so the next read shows the new content.
pub async fn a_fill_overtaken_by_a_write_is_refused(
    store: Arc<dyn CatalogStore>,
    backend: Arc<dyn CacheBackend>,
) {
    let sku = unique_sku("CF");
    let old = put(store.as_ref(), content(&sku, &[], None, vec![], vec![])).await;
    let cache = cached(store.clone(), backend.clone());
    let ticket = cache.fill_ticket();
    let mut changed = old.content.clone();
    changed.description = "Newer.".into();
    cache.upsert_content(changed, at(1)).await.unwrap();
    cache.fill(&[old], ticket).await;
    assert_eq!(
        read(&cache, &sku).await.unwrap().content.description,
        "Newer."
    );
}

/// Reads whose callers go away mid-load (an HTTP client that disconnects; what `wrk` does to its
/// in-flight requests when it stops) give their store connections back: afterwards writes and
/// reads still succeed. Before the fix, each abandoned load stayed in the single-flight map with
/// its pooled SQLite connection, and four of them left every later call waiting out the pool's
/// acquire timeout (`STORE_UNAVAILABLE` for every write of the bench's write part).
pub async fn reads_abandoned_mid_load_give_their_connections_back(
    store: Arc<dyn CatalogStore>,
    backend: Arc<dyn CacheBackend>,
) {
    use futures::FutureExt as _;
    let sku = unique_sku("CA");
    put(store.as_ref(), content(&sku, &[], None, vec![], vec![])).await;
    let cache = cached(store, backend);
    for _ in 0..8 {
        // Polled once (the load starts and waits on the store), then dropped.
        let category = unique_category("ca");
        let query = SearchQuery::new(None, vec![], Some(category), None, 10, None).unwrap();
        let _ = cache.search(&query).now_or_never();
        let _ = cache
            .products_by_skus(&[unique_sku("CA-MISS"), sku.clone()])
            .now_or_never();
    }
    let mut changed = content(&sku, &[], None, vec![], vec![]);
    changed.description = "Written after abandoned reads.".into();
    let written = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        cache.upsert_content(changed, at(1)),
    )
    .await
    .expect("the write finishes");
    written.expect("the write succeeds");
    assert_eq!(
        read(&cache, &sku).await.unwrap().content.description,
        "Written after abandoned reads."
    );
}
