//! Behaviour every [`CatalogStore`] adapter must show, as plain async checks that panic on
//! failure; `tests/store_sqlite.rs` and `tests/store_mongo.rs` run each against a fresh store.
//!
//! Non-obvious: compiled into the library (not `#[cfg(test)]`) so every adapter's integration
//! tests call the same code. Checks speak only through the trait, and each makes its own SKUs,
//! categories, attribute keys and words with unique names, so checks may share a database and run
//! in parallel. Times are fixed instants, never the wall clock.

mod concurrency;
mod content;
mod feed;
mod reviews;
mod search;
mod versions;

use chrono::{DateTime, Utc};
use polygate_kit::testing::unique_name;

use super::CatalogStore;
use crate::domain::{
    Attribute, AttributeValue, CatalogProduct, CategorySlug, Media, ProductContent, Sku, Variant,
};

pub use concurrency::concurrent_writers_all_succeed_and_each_write_applies_once;
pub use content::{
    a_variant_sku_of_another_product_is_a_conflict, content_round_trips_by_sku,
    deleting_content_removes_it_and_its_reviews, ping_succeeds,
    renaming_a_brand_rewrites_every_copy_and_feeds_each_product,
    upserting_again_replaces_content_and_keeps_the_rating, variants_are_added_replaced_and_removed,
};
pub use feed::every_content_change_and_deletion_appears_in_the_outbox_in_order;
pub use reviews::{
    a_review_of_a_product_without_content_is_not_found,
    a_review_updates_the_summary_and_the_latest_five,
    a_second_review_by_the_same_user_is_a_conflict_but_a_retry_is_not,
    reviews_page_newest_first_without_gaps,
};
pub use search::{
    search_filters_by_attributes_as_text_and_as_numbers,
    search_filters_by_category_at_any_level_and_by_price,
    search_finds_products_with_every_word_of_the_text, search_pages_in_sku_order_without_gaps,
};
pub use versions::{
    a_dump_restored_into_an_empty_store_reads_the_same,
    old_and_new_documents_read_the_same_and_the_migrator_rewrites_old_ones,
};

/// Calls `$callback!` with the name of every single-store check, so each adapter's test file
/// turns the same list into one test per check: `polygate_catalog::catalog_store_checks!(on_x);`
#[macro_export]
macro_rules! catalog_store_checks {
    ($callback:ident) => {
        $callback!(
            content_round_trips_by_sku,
            upserting_again_replaces_content_and_keeps_the_rating,
            a_variant_sku_of_another_product_is_a_conflict,
            variants_are_added_replaced_and_removed,
            deleting_content_removes_it_and_its_reviews,
            renaming_a_brand_rewrites_every_copy_and_feeds_each_product,
            search_filters_by_category_at_any_level_and_by_price,
            search_filters_by_attributes_as_text_and_as_numbers,
            search_finds_products_with_every_word_of_the_text,
            search_pages_in_sku_order_without_gaps,
            a_review_updates_the_summary_and_the_latest_five,
            a_second_review_by_the_same_user_is_a_conflict_but_a_retry_is_not,
            reviews_page_newest_first_without_gaps,
            a_review_of_a_product_without_content_is_not_found,
            every_content_change_and_deletion_appears_in_the_outbox_in_order,
            old_and_new_documents_read_the_same_and_the_migrator_rewrites_old_ones,
            ping_succeeds,
            concurrent_writers_all_succeed_and_each_write_applies_once,
        );
    };
}

// ---- fixtures shared by the checks ----------------------------------------------------------

/// 2026-03-01T00:00:00Z plus `secs`: a fixed instant.
pub fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_772_323_200 + secs, 0).expect("in range")
}

/// A SKU no other check uses.
pub fn unique_sku(tag: &str) -> Sku {
    Sku::parse(&unique_name(tag)).expect("valid sku")
}

/// A category slug no other check uses.
pub fn unique_category(tag: &str) -> CategorySlug {
    let slug = unique_name(tag).replace('_', "-").to_ascii_lowercase();
    CategorySlug::parse_field("category", &slug[..slug.len().min(40)]).expect("valid slug")
}

/// An attribute key no other check uses.
pub fn unique_key(tag: &str) -> String {
    let key = unique_name(tag).to_ascii_lowercase();
    key[..key.len().min(40)].to_owned()
}

/// A word (letters and digits) no other check uses.
pub fn unique_word(tag: &str) -> String {
    unique_name(tag).replace('_', "x").to_ascii_lowercase()
}

pub fn text(key: &str, value: &str) -> Attribute {
    Attribute::new("a", key, AttributeValue::Text(value.into()), None).expect("valid attribute")
}

pub fn number(key: &str, value: f64, unit: Option<&str>) -> Attribute {
    Attribute::new("a", key, AttributeValue::Number(value), unit).expect("valid attribute")
}

pub fn variant(sku: &str, colour: &str, delta: i64, stock: i32) -> Variant {
    Variant::new(
        "v",
        sku,
        &[("colour".to_owned(), colour.to_owned())],
        delta,
        stock,
    )
    .expect("valid variant")
}

/// Content for `sku` with the given category path, price, attributes and variants.
pub fn content(
    sku: &Sku,
    categories: &[&CategorySlug],
    price: Option<i64>,
    attributes: Vec<Attribute>,
    variants: Vec<Variant>,
) -> ProductContent {
    ProductContent::new(
        sku.clone(),
        &format!("Conformance product {sku}"),
        "A product the conformance checks made.",
        Some("Polygate Goods"),
        categories.iter().map(|c| (*c).clone()).collect(),
        price,
        attributes,
        variants,
        vec![Media::new("m", "/media/check.webp", "check").expect("valid media")],
    )
    .expect("valid content")
}

/// Plain content: no category, price, attributes or variants.
pub fn plain(sku: &Sku) -> ProductContent {
    content(sku, &[], None, vec![], vec![])
}

/// Writes `content` at `at(0)`.
pub async fn put(store: &dyn CatalogStore, content: ProductContent) -> CatalogProduct {
    store
        .upsert_content(content, at(0))
        .await
        .expect("upsert_content")
}

/// The one product `sku`, read now.
pub async fn read(store: &dyn CatalogStore, sku: &Sku) -> Option<CatalogProduct> {
    let mut found = store
        .products_by_skus(std::slice::from_ref(sku))
        .await
        .expect("products_by_skus");
    assert!(found.len() <= 1, "{sku} found {} times", found.len());
    found.pop()
}

/// The SKUs of `products`, in their order.
pub fn skus(products: &[CatalogProduct]) -> Vec<String> {
    products
        .iter()
        .map(|p| p.content.sku.as_str().to_owned())
        .collect()
}
