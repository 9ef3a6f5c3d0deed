//! Deterministic bench and test data: product `n` always has the same content, so runs compare
//! and the plan tests see the same distribution. Categories, attribute values and prices spread
//! like a real catalog (a few big categories, many attribute values, a long price tail).
//!
//! Non-obvious: documents are loaded with `import_documents` in batches (one transaction and one
//! outbox entry per product, like a restore), because one `upsert_content` transaction per
//! product would make loading 100 k products on a test server take many minutes.

use serde_json::Value;

use crate::domain::{
    Attribute, AttributeValue, CatalogProduct, CategorySlug, ProductContent, Sku, Variant,
};
use crate::store::document::{CURRENT_VERSION, ProductDoc};
use crate::store::{CatalogStore, Collection, StoreError};

/// Root categories and their leaves.
pub const CATEGORIES: [(&str, [&str; 4]); 5] = [
    (
        "kitchen",
        ["drinkware", "cookware", "cutlery", "appliances"],
    ),
    ("office", ["paper", "writing", "lighting", "desk"]),
    ("outdoor", ["camping", "hydration", "climbing", "travel"]),
    ("home", ["bedding", "bath", "decor", "storage"]),
    ("garden", ["tools", "planters", "lighting", "furniture"]),
];
pub const COLOURS: [&str; 8] = [
    "black", "white", "blue", "red", "green", "grey", "sage", "sand",
];
pub const MATERIALS: [&str; 6] = ["steel", "stoneware", "glass", "oak", "cotton", "aluminium"];
const NOUNS: [&str; 10] = [
    "mug", "kettle", "lamp", "bottle", "tent", "notebook", "pan", "basket", "towel", "chair",
];
const ADJECTIVES: [&str; 10] = [
    "compact", "sturdy", "light", "classic", "modern", "rugged", "slim", "soft", "bright", "quiet",
];

/// A well-mixed hash of `n` and `salt` (splitmix64), so fields vary independently.
fn mix(n: u64, salt: u64) -> u64 {
    let mut z = n
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<T: Copy>(list: &[T], n: u64, salt: u64) -> T {
    list[(mix(n, salt) % list.len() as u64) as usize]
}

/// The SKU of generated product `n`.
pub fn sku(n: u64) -> String {
    format!("GEN-{n:07}")
}

/// The content of generated product `n`.
pub fn content(n: u64) -> ProductContent {
    let (root, leaves) = pick(&CATEGORIES, n, 1);
    let leaf = pick(&leaves, n, 2);
    let noun = pick(&NOUNS, n, 3);
    let adjective = pick(&ADJECTIVES, n, 4);
    let colour = pick(&COLOURS, n, 5);
    let material = pick(&MATERIALS, n, 6);
    let capacity = 100 + (mix(n, 7) % 20) * 100;
    let weight = 50 + mix(n, 8) % 5_000;
    // A long tail: most prices are low, a few are high.
    let price = 500 + (mix(n, 9) % 100).pow(2) * 50;
    let sku_text = sku(n);
    let attributes = vec![
        Attribute::new("a", "colour", AttributeValue::Text(colour.into()), None),
        Attribute::new("a", "material", AttributeValue::Text(material.into()), None),
        Attribute::new(
            "a",
            "capacity",
            AttributeValue::Number(capacity as f64),
            Some("ml"),
        ),
        Attribute::new(
            "a",
            "weight",
            AttributeValue::Number(weight as f64),
            Some("g"),
        ),
    ]
    .into_iter()
    .collect::<Result<Vec<_>, _>>()
    .expect("generated attributes are valid");
    let variants = (0..mix(n, 10) % 4)
        .map(|v| {
            let colour = COLOURS[((mix(n, 5) + v + 1) % COLOURS.len() as u64) as usize];
            Variant::new(
                "v",
                &format!("{sku_text}-{v}"),
                &[("colour".into(), colour.into())],
                (v as i64) * 100,
                (mix(n, 11 + v) % 50) as i32,
            )
            .expect("generated variants are valid")
        })
        .collect();
    ProductContent::new(
        Sku::parse(&sku_text).expect("generated SKUs are valid"),
        &format!("{} {adjective} {noun} {n}", capitalised(material)),
        &format!(
            "A {adjective} {colour} {noun} in {material} for the {leaf} shelf; {capacity} ml, {weight} g."
        ),
        Some(pick(&["Polygate Goods", "Trailhead", "Folio", "Kiln & Co"], n, 12)),
        vec![
            CategorySlug::parse_field("c", root).expect("valid"),
            CategorySlug::parse_field("c", leaf).expect("valid"),
        ],
        Some(price as i64),
        attributes,
        variants,
        vec![],
    )
    .expect("generated content is valid")
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// The stored document of generated product `n` (revision 1, a fixed time).
pub fn document(n: u64) -> Value {
    let sku = Sku::parse(&sku(n)).expect("generated SKUs are valid");
    // 0 to 5 reviews, embedded as the latest ones (the bench's product page shows them).
    let mut rating = crate::domain::RatingSummary::default();
    let mut recent_reviews = Vec::new();
    for r in 0..mix(n, 20) % 6 {
        let stars = 1 + (mix(n, 21 + r) % 5) as i64;
        let review = crate::domain::NewReview::new(
            sku.clone(),
            crate::domain::UserRef(format!("{}", 1_000 + mix(n, 30 + r) % 10_000)),
            stars,
            &format!("{stars} stars"),
            "Generated for the benchmark.",
            chrono::DateTime::from_timestamp(1_767_225_600 + (r as i64) * 60, 0).expect("in range"),
        )
        .expect("generated reviews are valid");
        rating = rating.with(review.0.rating);
        recent_reviews.insert(0, review.0);
    }
    let product = CatalogProduct {
        content: content(n),
        rating,
        recent_reviews,
        revision: 1,
        updated_at: chrono::DateTime::from_timestamp(1_767_225_600, 0).expect("in range"),
        stored_version: CURRENT_VERSION,
    };
    serde_json::to_value(ProductDoc::from_domain(&product)).expect("documents serialise")
}

/// Loads products `from..to` in batches of `batch`, calling `progress(done)` after each.
pub async fn load(
    store: &dyn CatalogStore,
    from: u64,
    to: u64,
    batch: u64,
    mut progress: impl FnMut(u64),
) -> Result<(), StoreError> {
    let mut start = from;
    while start < to {
        let end = (start + batch.max(1)).min(to);
        let docs: Vec<Value> = (start..end).map(document).collect();
        // A batch that timed out on a busy machine is sent again: an import replaces by `_id`,
        // so a batch that did commit only gains a second outbox entry per product.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match store
                .import_documents(Collection::Products, docs.clone())
                .await
            {
                Err(StoreError::Unavailable(_)) if attempt < 4 => continue,
                other => {
                    other?;
                    break;
                }
            }
        }
        progress(end - from);
        start = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_product_is_the_same_every_time_and_valid() {
        assert_eq!(content(42), content(42));
        assert_ne!(content(42), content(43));
        let doc = document(7);
        let read = crate::store::document::product_from_raw(doc).unwrap();
        assert_eq!(read.content, content(7));
    }
}
