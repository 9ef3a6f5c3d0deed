//! The shard-key argument in numbers: a simulation of how MongoDB would place the generated
//! catalog's documents in chunks over shards for each candidate key, and what that means for
//! writes and for the two hot queries (a product by SKU, a search in a category). No sharded
//! cluster runs here, so this is arithmetic on the real data distribution, not a measurement of
//! a cluster; `tests/sharding.rs` asserts the properties the design doc relies on and prints the
//! table it quotes.
//!
//! Model: a range-sharded key is cut into chunks of `chunk_docs` consecutive documents in key
//! order, and the balancer spreads chunk counts evenly (round-robin); a hashed key is cut into
//! equal ranges of the hash space, one per chunk. New documents land in the chunk that owns their
//! key; a query targets the shards owning the chunks its equality/range on the key prefix can
//! touch (the mongos routing rule), otherwise every shard.

use crate::generator;

/// A candidate shard key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardKey {
    /// `{_id: "hashed"}` (the SKU, hashed).
    HashedSku,
    /// `{_id: 1}` ranged: SKUs are issued in increasing order.
    RangedSku,
    /// `{rootCategory: 1, _id: 1}` ranged (a compound key on the category path's root).
    CategoryThenSku,
    /// The same key with one zone per root category (zone sharding pins each category's range
    /// to one shard, as it would pin a market's range to a region).
    ZonedCategoryThenSku,
}

impl ShardKey {
    pub const ALL: [ShardKey; 4] = [
        ShardKey::HashedSku,
        ShardKey::RangedSku,
        ShardKey::CategoryThenSku,
        ShardKey::ZonedCategoryThenSku,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ShardKey::HashedSku => "{_id: hashed}",
            ShardKey::RangedSku => "{_id: 1}",
            ShardKey::CategoryThenSku => "{rootCategory: 1, _id: 1}",
            ShardKey::ZonedCategoryThenSku => "same, a zone per category",
        }
    }

    /// The key's sort position of product `n`: what chunks are ranges of.
    fn position(self, n: u64) -> (u64, String) {
        let sku = generator::sku(n);
        match self {
            ShardKey::HashedSku => (hash(&sku), String::new()),
            ShardKey::RangedSku => (0, sku),
            ShardKey::CategoryThenSku | ShardKey::ZonedCategoryThenSku => {
                let root = generator::content(n).category_path[0].as_str().to_owned();
                (0, format!("{root}\u{0}{sku}"))
            }
        }
    }
}

/// A 64-bit hash of a SKU (MongoDB hashes with MD5's first 64 bits; any good mix behaves alike).
fn hash(sku: &str) -> u64 {
    let digest = <sha2::Sha256 as sha2::Digest>::digest(sku.as_bytes());
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// What the simulation found for one key.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub key: ShardKey,
    /// Documents per shard.
    pub docs: Vec<u64>,
    /// Of `inserts` new products (numbers after the loaded ones), how many land on each shard.
    pub inserts: Vec<u64>,
    /// Shards a read of one product by SKU must ask (with the SKU alone).
    pub shards_for_sku_read: usize,
    /// Shards a search in one root category (`kitchen`) must ask.
    pub shards_for_category_search: usize,
}

impl Placement {
    /// Largest shard over the mean (1.0 is perfectly even).
    pub fn skew(values: &[u64]) -> f64 {
        let mean = values.iter().sum::<u64>() as f64 / values.len() as f64;
        values.iter().copied().max().unwrap_or(0) as f64 / mean.max(1e-9)
    }
}

/// Places products `0..products` in chunks of `chunk_docs` over `shards` shards for `key`, then
/// `inserts` new ones, and works out query targeting.
pub fn simulate(
    key: ShardKey,
    products: u64,
    inserts: u64,
    shards: usize,
    chunk_docs: u64,
) -> Placement {
    let mut keyed: Vec<((u64, String), u64)> =
        (0..products).map(|n| (key.position(n), n)).collect();
    keyed.sort();
    let chunks = products.div_ceil(chunk_docs).max(1) as usize;
    // Chunk boundaries: every chunk_docs-th key (ranged), equal hash ranges (hashed).
    let bounds: Vec<(u64, String)> = match key {
        ShardKey::HashedSku => (1..chunks)
            .map(|c| ((u64::MAX / chunks as u64) * c as u64, String::new()))
            .collect(),
        _ => (1..chunks)
            .map(|c| keyed[c * chunk_docs as usize].0.clone())
            .collect(),
    };
    let chunk_of = |position: &(u64, String)| bounds.partition_point(|b| b <= position);
    // The balancer evens out chunk counts; zones override it: a category's chunks stay on its
    // zone's shard (the categories' order in the generator, round-robin over the shards).
    let shard_of = |position: &(u64, String)| match key {
        ShardKey::ZonedCategoryThenSku => {
            let root = position.1.split('\u{0}').next().unwrap_or_default();
            generator::CATEGORIES
                .iter()
                .position(|(r, _)| *r == root)
                .unwrap_or(0)
                % shards
        }
        _ => chunk_of(position) % shards,
    };
    let mut docs = vec![0; shards];
    for (position, _) in &keyed {
        docs[shard_of(position)] += 1;
    }
    let mut new = vec![0; shards];
    for n in products..products + inserts {
        new[shard_of(&key.position(n))] += 1;
    }
    let shards_for_sku_read = match key {
        // The key is the SKU itself: one chunk.
        ShardKey::HashedSku | ShardKey::RangedSku => 1,
        // The SKU alone is not a prefix of the key: every shard.
        ShardKey::CategoryThenSku | ShardKey::ZonedCategoryThenSku => shards,
    };
    let shards_for_category_search = match key {
        ShardKey::HashedSku | ShardKey::RangedSku => shards,
        ShardKey::CategoryThenSku | ShardKey::ZonedCategoryThenSku => {
            let mut owners: Vec<usize> = keyed
                .iter()
                .filter(|(p, _)| p.1.starts_with("kitchen\u{0}"))
                .map(|(p, _)| shard_of(p))
                .collect();
            owners.sort_unstable();
            owners.dedup();
            owners.len()
        }
    };
    Placement {
        key,
        docs,
        inserts: new,
        shards_for_sku_read,
        shards_for_category_search,
    }
}
