//! The shard-key simulation on 100 000 generated products over 3 shards (see
//! `src/sharding.rs`): prints the table the design doc quotes and pins the properties it argues
//! from (`cargo test -p polygate-catalog --release --test sharding -- --nocapture`).

use polygate_catalog::sharding::{Placement, ShardKey, simulate};

const PRODUCTS: u64 = 100_000;
const INSERTS: u64 = 10_000;
const SHARDS: usize = 3;
/// Twelve chunks for 100 000 products, four per shard once balanced (MongoDB's default 128 MB
/// chunks would hold ~80 000 documents of ~1.6 KB: the granularity a growing catalog reaches).
const CHUNK_DOCS: u64 = 8_334;

#[test]
fn the_shard_keys_place_the_catalog_as_the_design_argues() {
    let results: Vec<Placement> = ShardKey::ALL
        .iter()
        .map(|key| simulate(*key, PRODUCTS, INSERTS, SHARDS, CHUNK_DOCS))
        .collect();
    println!(
        "{:28} {:>26} {:>10} {:>26} {:>8} {:>10}",
        "shard key", "documents per shard", "doc skew", "next 10 000 inserts", "by SKU", "category"
    );
    for p in &results {
        println!(
            "{:28} {:>26} {:>10.3} {:>26} {:>8} {:>10}",
            p.key.name(),
            format!("{:?}", p.docs),
            Placement::skew(&p.docs),
            format!("{:?}", p.inserts),
            p.shards_for_sku_read,
            p.shards_for_category_search,
        );
    }
    let [hashed, ranged, compound, zoned] = [&results[0], &results[1], &results[2], &results[3]];
    assert!(
        Placement::skew(&hashed.docs) < 1.05,
        "hashed spreads documents evenly"
    );
    assert!(
        Placement::skew(&hashed.inserts) < 1.1,
        "and new products too"
    );
    assert_eq!(
        hashed.shards_for_sku_read, 1,
        "a product by SKU is one shard"
    );
    assert_eq!(
        hashed.shards_for_category_search, SHARDS,
        "a category search asks all"
    );
    assert_eq!(
        ranged.inserts.iter().filter(|n| **n > 0).count(),
        1,
        "increasing SKUs send every insert to one shard"
    );
    assert_eq!(
        compound.shards_for_sku_read, SHARDS,
        "by SKU alone asks every shard"
    );
    // Without zones the balancer spreads a category's consecutive chunks over the shards too.
    assert_eq!(compound.shards_for_category_search, SHARDS);
    assert_eq!(zoned.shards_for_category_search, 1, "with zones, one shard");
    assert!(
        Placement::skew(&zoned.docs) > 1.15,
        "at the price of uneven shards"
    );
}
