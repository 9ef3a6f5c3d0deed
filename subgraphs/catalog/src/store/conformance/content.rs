//! Content: round trips, replacement, variants and deletion.

use super::*;
use crate::domain::{NewReview, UserRef};
use crate::store::StoreError;

/// What is written reads back whole; SKUs without content are simply absent.
pub async fn content_round_trips_by_sku(store: &dyn CatalogStore) {
    let sku = unique_sku("RT");
    let category = unique_category("rt");
    let written = content(
        &sku,
        &[&category],
        Some(1_999),
        vec![
            text("material", "stoneware"),
            number("capacity", 350.0, Some("ml")),
        ],
        vec![variant(&format!("{sku}-B"), "blue", 0, 3)],
    );
    let stored = put(store, written.clone()).await;
    assert_eq!(stored.content, written);
    assert_eq!(stored.revision, 1);
    assert_eq!(stored.updated_at, at(0));

    let missing = unique_sku("NONE");
    let found = store
        .products_by_skus(&[sku.clone(), missing])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0], stored);
    assert!(store.products_by_skus(&[]).await.unwrap().is_empty());
}

/// A second upsert replaces the content, counts a revision and keeps the rating.
pub async fn upserting_again_replaces_content_and_keeps_the_rating(store: &dyn CatalogStore) {
    let sku = unique_sku("UP");
    put(store, plain(&sku)).await;
    let review = NewReview::new(sku.clone(), UserRef("u1".into()), 4, "Fine", "", at(5)).unwrap();
    store.add_review(review).await.unwrap();

    let mut changed = plain(&sku);
    changed.description = "Now with a longer description.".into();
    changed.attributes = vec![text("finish", "matte")];
    let stored = store.upsert_content(changed.clone(), at(10)).await.unwrap();
    assert_eq!(stored.content, changed);
    assert_eq!(stored.revision, 2);
    assert_eq!(stored.updated_at, at(10));
    assert_eq!(
        stored.rating.count, 1,
        "the rating survives a content write"
    );
    assert_eq!(stored.recent_reviews.len(), 1);
    assert_eq!(read(store, &sku).await.unwrap(), stored);
}

/// A variant SKU names one variant in the whole catalog: another product may not take it,
/// whether in a full upsert or a single variant write.
pub async fn a_variant_sku_of_another_product_is_a_conflict(store: &dyn CatalogStore) {
    let first = unique_sku("VA");
    let second = unique_sku("VB");
    let shared = format!("{first}-X");
    put(
        store,
        content(
            &first,
            &[],
            None,
            vec![],
            vec![variant(&shared, "red", 0, 1)],
        ),
    )
    .await;

    let taken = content(
        &second,
        &[],
        None,
        vec![],
        vec![variant(&shared, "red", 0, 1)],
    );
    let err = store.upsert_content(taken, at(1)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(read(store, &second).await.is_none(), "nothing was written");

    put(store, plain(&second)).await;
    let err = store
        .upsert_variant(&second, variant(&shared, "red", 0, 1), at(2))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    // The owner itself may rewrite it.
    let again = content(
        &first,
        &[],
        None,
        vec![],
        vec![variant(&shared, "blue", 5, 2)],
    );
    store.upsert_content(again, at(3)).await.unwrap();
}

/// Single variant writes add, replace (by SKU) and remove variants.
pub async fn variants_are_added_replaced_and_removed(store: &dyn CatalogStore) {
    let sku = unique_sku("VR");
    put(store, plain(&sku)).await;
    let blue = format!("{sku}-B");
    let added = store
        .upsert_variant(&sku, variant(&blue, "blue", 0, 3), at(1))
        .await
        .unwrap();
    assert_eq!(added.content.variants, [variant(&blue, "blue", 0, 3)]);
    let replaced = store
        .upsert_variant(&sku, variant(&blue, "navy", 250, 0), at(2))
        .await
        .unwrap();
    assert_eq!(replaced.content.variants, [variant(&blue, "navy", 250, 0)]);
    assert_eq!(replaced.revision, 3);

    let blue_sku = Sku::parse(&blue).unwrap();
    let removed = store.remove_variant(&sku, &blue_sku, at(3)).await.unwrap();
    assert!(removed.content.variants.is_empty());
    let err = store
        .remove_variant(&sku, &blue_sku, at(4))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    // Removed, the SKU is free for another product.
    let other = unique_sku("VO");
    put(
        store,
        content(&other, &[], None, vec![], vec![variant(&blue, "x", 0, 0)]),
    )
    .await;

    let nobody = unique_sku("VN");
    let err = store
        .upsert_variant(&nobody, variant(&format!("{nobody}-1"), "x", 0, 0), at(5))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

/// Deleting content removes the product and its reviews; deleting again is a no-op.
pub async fn deleting_content_removes_it_and_its_reviews(store: &dyn CatalogStore) {
    let sku = unique_sku("DEL");
    let blue = format!("{sku}-B");
    put(
        store,
        content(&sku, &[], None, vec![], vec![variant(&blue, "b", 0, 0)]),
    )
    .await;
    let review = NewReview::new(sku.clone(), UserRef("u1".into()), 2, "Meh", "", at(1)).unwrap();
    store.add_review(review).await.unwrap();

    assert!(store.delete_content(&sku, at(2)).await.unwrap());
    assert!(read(store, &sku).await.is_none());
    assert!(store.reviews(&sku, 10, None).await.unwrap().is_empty());
    assert!(!store.delete_content(&sku, at(3)).await.unwrap());
    // Its variant SKUs are free again.
    let other = unique_sku("DO");
    put(
        store,
        content(&other, &[], None, vec![], vec![variant(&blue, "b", 0, 0)]),
    )
    .await;
}

/// The store answers a trivial request.
pub async fn ping_succeeds(store: &dyn CatalogStore) {
    store.ping().await.expect("ping");
}

/// Renaming a brand rewrites the copy in every product that carries it — in batches, each
/// product once, each rewrite appended to the outbox — and leaves other brands alone.
pub async fn renaming_a_brand_rewrites_every_copy_and_feeds_each_product(store: &dyn CatalogStore) {
    let (old, new, other) = (unique_word("Old"), unique_word("New"), unique_word("Other"));
    let mut carrying = Vec::new();
    for n in 0..5 {
        let sku = unique_sku(&format!("BR{n}"));
        let mut c = plain(&sku);
        c.brand = Some(old.clone());
        put(store, c).await;
        carrying.push(sku);
    }
    let bystander = unique_sku("BRX");
    let mut c = plain(&bystander);
    c.brand = Some(other.clone());
    put(store, c).await;
    let start = super::feed::last_position(store).await;

    let mut renamed = Vec::new();
    for _ in 0..10 {
        let batch = store.rename_brand(&old, &new, 2, at(9)).await.unwrap();
        assert!(batch.len() <= 2, "a batch respects its limit");
        if batch.is_empty() {
            break;
        }
        renamed.extend(batch);
    }
    renamed.sort();
    carrying.sort();
    assert_eq!(renamed, carrying);
    for sku in &carrying {
        let product = read(store, sku).await.unwrap();
        assert_eq!(product.content.brand.as_deref(), Some(new.as_str()));
        assert_eq!(product.revision, 2);
    }
    let untouched = read(store, &bystander).await.unwrap();
    assert_eq!(untouched.content.brand.as_deref(), Some(other.as_str()));
    let changes = store.content_changes_after(start, 100).await.unwrap();
    let mut fed: Vec<Sku> = changes
        .iter()
        .filter(|c| carrying.contains(&c.sku))
        .map(|c| c.sku.clone())
        .collect();
    fed.sort();
    assert_eq!(fed, carrying, "each renamed product once on the feed");
}
