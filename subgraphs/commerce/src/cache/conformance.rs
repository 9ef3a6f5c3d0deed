//! Behaviour a [`CachingStore`] over any [`ProductCache`] adapter must show, as plain async
//! checks that panic on failure; `tests/cache_memory.rs` and `tests/cache_redis.rs` run them on a
//! fresh SQLite store each.
//!
//! Non-obvious: the checks assert exact changes of process-wide counters (cache look-ups, store
//! calls), so a test binary must run them one at a time — hold [`serial`] for the whole check.

use std::sync::Arc;

use polygate_kit::metrics::{CACHE_LOOKUPS, store_calls};
use polygate_kit::testing::unique_name;
use tokio::sync::{Mutex, MutexGuard};

use super::{CACHE_NAME, CachingStore, ProductCache};
use crate::domain::{
    Currency, IdempotencyKey, LineRequest, Money, NewProduct, Product, ProductName, Quantity,
    Reservation, Restock, RestockOutcome, Sku, WarehouseCode,
};
use crate::ids::{DEFAULT_SHARD, OrderId, ProductId};
use crate::store::CommerceStore;

/// Held by a test while it reads or moves the process-wide counters.
pub async fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::const_new(());
    LOCK.lock().await
}

/// Look-ups of the product cache so far, by result: `(hit, miss, error)`.
pub fn lookups() -> (u64, u64, u64) {
    let count = |result: &str| CACHE_LOOKUPS.with_label_values(&[CACHE_NAME, result]).get();
    (count("hit"), count("miss"), count("error"))
}

/// Calls of `products_by_ids` that reached a store so far.
pub fn store_reads() -> u64 {
    store_calls(crate::NAME, "products_by_ids")
}

/// A new product priced `amount_minor` USD, created through `store`.
pub async fn new_product(store: &dyn CommerceStore, amount_minor: i64) -> Product {
    let id = ProductId::new(DEFAULT_SHARD);
    store
        .create_product(NewProduct {
            id,
            sku: Sku::parse(&format!("CACHE-{id}")).expect("valid SKU"),
            name: ProductName::parse("Cache check mug").expect("valid name"),
            description: String::new(),
            category: None,
            price: usd(amount_minor),
        })
        .await
        .expect("create_product")
}

pub fn usd(amount_minor: i64) -> Money {
    Money::new(amount_minor, Currency::usd()).expect("valid amount")
}

/// Adds `quantity` units of `product` to the check warehouse (created if need be).
pub async fn restock(store: &dyn CommerceStore, product: ProductId, quantity: i32) {
    let warehouse = WarehouseCode::parse("CACHE-CHECK").expect("valid code");
    store
        .ensure_warehouse(&warehouse, "Cache checks", "DE")
        .await
        .expect("ensure_warehouse");
    let outcome = store
        .restock(&Restock {
            key: IdempotencyKey::parse(&unique_name("restock")).expect("valid key"),
            product,
            warehouse,
            quantity: Quantity::new(quantity, "quantity").expect("valid quantity"),
        })
        .await
        .expect("restock");
    assert_eq!(outcome, RestockOutcome::Applied);
}

/// The one product `id`, read through `store`.
pub async fn read_one(store: &dyn CommerceStore, id: ProductId) -> Product {
    let mut found = store
        .products_by_ids(&[id], None)
        .await
        .expect("products_by_ids");
    assert_eq!(found.len(), 1, "product {id}");
    found.remove(0)
}

/// The first read of a product misses and asks the store; the second is a hit and does not.
pub async fn a_second_read_is_a_hit_and_skips_the_store(
    store: Arc<dyn CommerceStore>,
    cache: Arc<dyn ProductCache>,
) {
    let product = new_product(store.as_ref(), 1_250).await;
    let cached = CachingStore::new(store, cache);

    let (hits, misses, _) = lookups();
    let reads = store_reads();
    assert_eq!(read_one(&cached, product.id).await, product);
    assert_eq!(lookups().1, misses + 1, "the first read misses");
    assert_eq!(store_reads(), reads + 1, "a miss reads the store");

    assert_eq!(read_one(&cached, product.id).await, product);
    assert_eq!(lookups().0, hits + 1, "the second read hits");
    assert_eq!(store_reads(), reads + 1, "a hit does not read the store");

    let metrics = polygate_kit::metrics::render();
    assert!(
        metrics.contains(r#"polygate_cache_hit_ratio{cache="product"}"#),
        "the hit ratio is exported"
    );
}

/// One batch asks the store only for its misses, once, and returns each product once.
pub async fn a_batch_reads_only_its_misses_from_the_store(
    store: Arc<dyn CommerceStore>,
    cache: Arc<dyn ProductCache>,
) {
    let a = new_product(store.as_ref(), 100).await;
    let b = new_product(store.as_ref(), 200).await;
    let c = new_product(store.as_ref(), 300).await;
    let missing = ProductId::new(DEFAULT_SHARD);
    let cached = CachingStore::new(store, cache);
    read_one(&cached, a.id).await;

    let (hits, misses, _) = lookups();
    let reads = store_reads();
    let mut found = cached
        .products_by_ids(&[a.id, b.id, a.id, c.id, missing], None)
        .await
        .unwrap();
    found.sort_by_key(|p| p.id);
    assert_eq!(found, [a, b, c]);
    assert_eq!(lookups().0, hits + 1, "a is a hit");
    assert_eq!(lookups().1, misses + 3, "b, c and the missing id miss");
    assert_eq!(store_reads(), reads + 1, "one store call for all misses");

    let again = cached.products_by_ids(&[missing], None).await.unwrap();
    assert!(again.is_empty());
    assert_eq!(lookups().1, misses + 4, "absence is not cached");
}

/// A new price shows on the very next read.
pub async fn a_price_change_shows_on_the_next_read(
    store: Arc<dyn CommerceStore>,
    cache: Arc<dyn ProductCache>,
) {
    let product = new_product(store.as_ref(), 1_000).await;
    let cached = CachingStore::new(store, cache);
    read_one(&cached, product.id).await;
    read_one(&cached, product.id).await;

    cached.set_price(product.id, usd(1_500)).await.unwrap();
    let after = read_one(&cached, product.id).await;
    assert_eq!(after.price_in(&Currency::usd()), Some(&usd(1_500)));
    assert_eq!(
        read_one(&cached, product.id).await,
        after,
        "and is cached again"
    );
}

/// Restocking, reserving and releasing each show in `available` on the very next read.
pub async fn stock_changes_show_on_the_next_read(
    store: Arc<dyn CommerceStore>,
    cache: Arc<dyn ProductCache>,
) {
    let product = new_product(store.as_ref(), 700).await;
    let cached = CachingStore::new(store, cache);
    restock(&cached, product.id, 5).await;
    assert_eq!(read_one(&cached, product.id).await.available, 5);
    assert_eq!(read_one(&cached, product.id).await.available, 5);

    restock(&cached, product.id, 3).await;
    assert_eq!(read_one(&cached, product.id).await.available, 8);

    let order = OrderId::new(DEFAULT_SHARD);
    let line = LineRequest {
        product: product.id,
        quantity: Quantity::new(2, "quantity").unwrap(),
    };
    let held = cached
        .reserve_stock(order, &Currency::usd(), &[line])
        .await
        .unwrap();
    assert!(matches!(held, Reservation::Held(_)), "{held:?}");
    assert_eq!(read_one(&cached, product.id).await.available, 6);

    let released = cached.release_stock(order).await.unwrap();
    assert_eq!(released, [product.id]);
    assert_eq!(read_one(&cached, product.id).await.available, 8);
}

/// The cache-aside race: a reader loads the old price, a writer commits and invalidates, then
/// the reader fills the cache with what it loaded. The fill is refused, so the next read shows
/// the new price instead of the old one until the TTL.
pub async fn a_fill_overtaken_by_a_write_is_refused(
    store: Arc<dyn CommerceStore>,
    cache: Arc<dyn ProductCache>,
) {
    let product = new_product(store.as_ref(), 1_000).await;
    let cached = CachingStore::new(store.clone(), cache.clone());

    let ticket = cache.ticket();
    let old = read_one(store.as_ref(), product.id).await;
    cached.set_price(product.id, usd(900)).await.unwrap();
    cache.put_many(&[old], ticket).await.unwrap();

    let after = read_one(&cached, product.id).await;
    assert_eq!(after.price_in(&Currency::usd()), Some(&usd(900)));
}

/// Products read by SKU go to the store and fill the cache for reads by id.
pub async fn reads_by_sku_fill_the_cache(
    store: Arc<dyn CommerceStore>,
    cache: Arc<dyn ProductCache>,
) {
    let product = new_product(store.as_ref(), 400).await;
    let cached = CachingStore::new(store, cache);
    let by_sku = cached
        .products_by_skus(std::slice::from_ref(&product.sku), None)
        .await
        .unwrap();
    assert_eq!(by_sku, std::slice::from_ref(&product));

    let (hits, _, _) = lookups();
    let reads = store_reads();
    assert_eq!(read_one(&cached, product.id).await, product);
    assert_eq!(lookups().0, hits + 1);
    assert_eq!(store_reads(), reads);
}
