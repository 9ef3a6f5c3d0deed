//! Concurrent writers: what the bench's write part does, small enough for a test.

use std::collections::HashMap;

use futures::future::join_all;

use super::feed::last_position;
use super::*;
use crate::domain::{NewReview, UserRef};

/// Writers running at once (the bench's `--clients` default).
pub const WRITERS: usize = 8;
/// Writes each writer makes, alternating a review and a variant change.
const WRITES_EACH: usize = 6;
/// Products the writers share: few, so they also collide on the same documents.
const PRODUCTS: usize = 3;

/// Eight writers at once, alternating `add_review` and `upsert_variant` over three shared
/// products: every write succeeds, and each applies exactly once (rating counts, variants,
/// revisions and outbox entries add up to what was written).
pub async fn concurrent_writers_all_succeed_and_each_write_applies_once(store: &dyn CatalogStore) {
    let products: Vec<Sku> = (0..PRODUCTS).map(|_| unique_sku("CW")).collect();
    for sku in &products {
        put(store, plain(sku)).await;
    }
    let start = last_position(store).await;

    let writers = (0..WRITERS).map(|w| {
        let products = &products;
        async move {
            let mut failures = Vec::new();
            for i in 0..WRITES_EACH {
                let sku = &products[(w + i) % PRODUCTS];
                let outcome = if i % 2 == 0 {
                    let review = NewReview::new(
                        sku.clone(),
                        UserRef(format!("writer{w}-{i}")),
                        (i % 5 + 1) as i64,
                        "Concurrent",
                        "",
                        at((w * WRITES_EACH + i) as i64),
                    )
                    .expect("valid review");
                    store.add_review(review).await.map(|_| ())
                } else {
                    let v = variant(&format!("{sku}-W{w}I{i}"), "x", 0, i as i32);
                    store
                        .upsert_variant(sku, v, at((w * WRITES_EACH + i) as i64))
                        .await
                        .map(|_| ())
                };
                if let Err(e) = outcome {
                    failures.push(format!("writer {w}, write {i} on {sku}: {e}"));
                }
            }
            failures
        }
    });
    let failures: Vec<String> = join_all(writers).await.into_iter().flatten().collect();
    assert!(
        failures.is_empty(),
        "{} of {} concurrent writes failed:\n{}",
        failures.len(),
        WRITERS * WRITES_EACH,
        failures.join("\n")
    );

    // What each product should show: every write counted once.
    let mut reviews: HashMap<&Sku, i64> = HashMap::new();
    let mut variants: HashMap<&Sku, usize> = HashMap::new();
    for w in 0..WRITERS {
        for i in 0..WRITES_EACH {
            let sku = &products[(w + i) % PRODUCTS];
            if i % 2 == 0 {
                *reviews.entry(sku).or_default() += 1;
            } else {
                *variants.entry(sku).or_default() += 1;
            }
        }
    }
    for sku in &products {
        let product = read(store, sku).await.expect("still there");
        let want_reviews = reviews.get(sku).copied().unwrap_or(0);
        let want_variants = variants.get(sku).copied().unwrap_or(0);
        assert_eq!(product.rating.count, want_reviews, "reviews of {sku}");
        assert_eq!(
            product.content.variants.len(),
            want_variants,
            "variants of {sku}"
        );
        assert_eq!(
            product.revision,
            1 + want_variants as i64,
            "revision of {sku}"
        );
    }

    // The outbox: one entry per variant write, positions unique and increasing.
    let mut ours = Vec::new();
    let mut after = start;
    loop {
        let batch = store.content_changes_after(after, 100).await.unwrap();
        let Some(last) = batch.last() else { break };
        after = last.position;
        ours.extend(batch.into_iter().filter(|c| products.contains(&c.sku)));
    }
    assert_eq!(
        ours.len(),
        variants.values().sum::<usize>(),
        "outbox entries of the variant writes"
    );
    for pair in ours.windows(2) {
        assert!(pair[0].position < pair[1].position, "positions increase");
    }
}
