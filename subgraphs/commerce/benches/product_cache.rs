//! Product reads through the product cache, in-process, against a real PostgreSQL: the latency
//! of `products_by_ids(&[one id])` on a cache hit (memory, and Redis when
//! `POLYGATE_BENCH_REDIS_URL` is set) and on a miss (the id invalidated before each read, so the
//! read goes to Postgres and fills the cache again), next to the Postgres store alone.
//!
//! Reads are sequential (one at a time: this measures latency, not throughput). Each round runs
//! every case for READS reads, cases alternating so machine noise hits all alike; the figures
//! are the median and p99 over all rounds. `subgraphs/commerce/bench/run` runs it on its
//! generated database; alone:
//!   POLYGATE_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:55432/commerce \
//!     cargo bench -p polygate-commerce --bench product_cache
//! Environment: ROUNDS (5), READS (2000), SKU (BENCH-000001; created if missing).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use polygate_commerce::PostgresStore;
use polygate_commerce::cache::{
    CacheSettings, CachingStore, MemoryProductCache, ProductCache, RedisProductCache,
};
use polygate_commerce::domain::{Currency, Money, NewProduct, ProductName, Sku};
use polygate_commerce::ids::ProductId;
use polygate_commerce::store::CommerceStore;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// How one case reads.
enum Case {
    /// The Postgres store, no cache.
    Store(Arc<dyn CommerceStore>),
    /// Through the cache, already holding the product.
    Hit(Arc<CachingStore>),
    /// Through the cache after invalidating the product (not timed).
    Miss(Arc<CachingStore>),
}

impl Case {
    async fn read(&self, id: ProductId) -> anyhow::Result<Duration> {
        let store: &dyn CommerceStore = match self {
            Case::Store(store) => store.as_ref(),
            Case::Hit(caching) => caching.as_ref(),
            Case::Miss(caching) => {
                caching.cache().invalidate(&[id]).await?;
                caching.as_ref()
            }
        };
        let started = Instant::now();
        let found = store.products_by_ids(&[id], None).await?;
        let elapsed = started.elapsed();
        anyhow::ensure!(found.len() == 1, "product {id} not found");
        Ok(elapsed)
    }
}

/// The id of the product `sku`, created with a price and no stock when missing.
async fn product(store: &dyn CommerceStore, sku: &str) -> anyhow::Result<ProductId> {
    let sku = Sku::parse(sku).map_err(|e| anyhow::anyhow!("SKU: {e:?}"))?;
    if let Some(found) = store
        .products_by_skus(std::slice::from_ref(&sku), None)
        .await?
        .pop()
    {
        return Ok(found.id);
    }
    let created = store
        .create_product(NewProduct {
            id: ProductId::new(0),
            sku,
            name: ProductName::parse("Cache bench product")
                .map_err(|e| anyhow::anyhow!("{e:?}"))?,
            description: String::new(),
            category: None,
            price: Money::new(1999, Currency::usd()).map_err(|e| anyhow::anyhow!("{e:?}"))?,
        })
        .await?;
    Ok(created.id)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let Ok(url) = std::env::var("POLYGATE_BENCH_POSTGRES_URL") else {
        eprintln!("SKIPPED: set POLYGATE_BENCH_POSTGRES_URL (subgraphs/commerce/bench/run does)");
        return Ok(());
    };
    let rounds: usize = env_or("ROUNDS", 5);
    let reads: usize = env_or("READS", 2000);
    let sku: String = env_or("SKU", "BENCH-000001".to_owned());

    let store: Arc<dyn CommerceStore> = Arc::new(
        PostgresStore::connect(&url)
            .await
            .context("cannot open the Postgres store")?,
    );
    let id = product(store.as_ref(), &sku).await?;
    let settings = CacheSettings {
        prefix: format!("pc:bench{}", std::process::id()),
        ..CacheSettings::default()
    };
    let memory = Arc::new(CachingStore::new(
        store.clone(),
        Arc::new(MemoryProductCache::new(&settings)),
    ));
    let mut cases: Vec<(&str, Case)> = vec![
        ("postgres store, no cache", Case::Store(store.clone())),
        ("memory cache hit", Case::Hit(memory.clone())),
        ("memory cache miss", Case::Miss(memory)),
    ];
    let mut redis_cache = None;
    if let Ok(redis_url) = std::env::var("POLYGATE_BENCH_REDIS_URL") {
        let cache: Arc<dyn ProductCache> = Arc::new(RedisProductCache::new(&redis_url, &settings)?);
        redis_cache = Some(cache.clone());
        let redis = Arc::new(CachingStore::new(store.clone(), cache));
        cases.push(("redis cache hit", Case::Hit(redis.clone())));
        cases.push(("redis cache miss", Case::Miss(redis)));
    } else {
        eprintln!("(redis cases skipped: set POLYGATE_BENCH_REDIS_URL)");
    }

    // Warm every path once (connections, prepared statements, cache fills).
    for (_, case) in &cases {
        for _ in 0..50 {
            case.read(id).await?;
        }
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(rounds * reads); cases.len()];
    for _ in 0..rounds {
        for (i, (_, case)) in cases.iter().enumerate() {
            for _ in 0..reads {
                samples[i].push(case.read(id).await?);
            }
        }
    }
    if let Some(cache) = redis_cache {
        cache.invalidate(&[id]).await?;
    }

    println!("\nproducts_by_ids(&[one id]), sequential; {rounds} rounds x {reads} reads per case");
    println!("{:28} {:>10} {:>10}", "case", "p50 us", "p99 us");
    for ((name, _), mut latencies) in cases.iter().zip(samples) {
        latencies.sort();
        let (p50, p99) = (percentile(&latencies, 0.50), percentile(&latencies, 0.99));
        println!(
            "{name:28} {:>10.1} {:>10.1}",
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6
        );
        println!(
            "RESULT case={} p50_us={:.2} p99_us={:.2} reads={}",
            name.replace(", ", "_").replace(' ', "_"),
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6,
            latencies.len()
        );
    }
    Ok(())
}
