//! Reviews: the summary and latest reviews kept in step, one per user, paging.

use super::*;
use crate::domain::{NewReview, ReviewCursor, ReviewOutcome, UserRef};
use crate::store::StoreError;

fn review(sku: &Sku, user: &str, stars: i64, secs: i64) -> NewReview {
    NewReview::new(
        sku.clone(),
        UserRef(user.into()),
        stars,
        &format!("{stars} stars from {user}"),
        "Body text.",
        at(secs),
    )
    .unwrap()
}

/// Six reviews: the summary counts all six, the document embeds the latest five, newest first.
pub async fn a_review_updates_the_summary_and_the_latest_five(store: &dyn CatalogStore) {
    let sku = unique_sku("RS");
    put(store, plain(&sku)).await;
    let stars = [5, 4, 4, 3, 1, 5];
    for (n, s) in stars.iter().enumerate() {
        let outcome = store
            .add_review(review(&sku, &format!("u{n}"), *s, n as i64 * 60))
            .await
            .unwrap();
        assert!(matches!(outcome, ReviewOutcome::Added(_)), "{outcome:?}");
    }
    let product = read(store, &sku).await.unwrap();
    assert_eq!(product.rating.count, 6);
    assert_eq!(product.rating.sum, 22);
    assert_eq!(product.rating.histogram, [1, 0, 1, 2, 2]);
    let recent: Vec<&str> = product
        .recent_reviews
        .iter()
        .map(|r| r.author.0.as_str())
        .collect();
    assert_eq!(recent, ["u5", "u4", "u3", "u2", "u1"]);
    assert_eq!(product.revision, 1, "reviews are not content revisions");
}

/// One review per user per product: the same review again is a harmless retry, a different
/// one is a conflict, and neither counts twice.
pub async fn a_second_review_by_the_same_user_is_a_conflict_but_a_retry_is_not(
    store: &dyn CatalogStore,
) {
    let sku = unique_sku("RC");
    put(store, plain(&sku)).await;
    let first = review(&sku, "alice", 5, 0);
    store.add_review(first.clone()).await.unwrap();

    let retry = review(&sku, "alice", 5, 30);
    let outcome = store.add_review(retry).await.unwrap();
    assert_eq!(outcome, ReviewOutcome::AlreadyAdded(first.0.clone()));

    let different = review(&sku, "alice", 1, 60);
    let err = store.add_review(different).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");

    let product = read(store, &sku).await.unwrap();
    assert_eq!(product.rating.count, 1);
    assert_eq!(store.reviews(&sku, 10, None).await.unwrap(), [first.0]);
    // Another product is another matter.
    let other = unique_sku("RO");
    put(store, plain(&other)).await;
    store
        .add_review(review(&other, "alice", 1, 0))
        .await
        .unwrap();
}

/// Pages of 3 through 8 reviews (two in the same millisecond) list each once, newest first.
pub async fn reviews_page_newest_first_without_gaps(store: &dyn CatalogStore) {
    let sku = unique_sku("RP");
    put(store, plain(&sku)).await;
    for n in 0..8 {
        let secs = if n == 7 { 6 * 60 } else { n * 60 };
        store
            .add_review(review(&sku, &format!("p{n}"), 3, secs))
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut after: Option<ReviewCursor> = None;
    for _ in 0..10 {
        let page = store.reviews(&sku, 3, after.as_ref()).await.unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(ReviewCursor::of);
        seen.extend(page);
    }
    assert_eq!(seen.len(), 8);
    for pair in seen.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            (a.created_at, &a.id) > (b.created_at, &b.id),
            "newest first, ties by id: {a:?} then {b:?}"
        );
    }
}

/// Reviews need content to attach to.
pub async fn a_review_of_a_product_without_content_is_not_found(store: &dyn CatalogStore) {
    let sku = unique_sku("RN");
    let err = store.add_review(review(&sku, "u", 3, 0)).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}
