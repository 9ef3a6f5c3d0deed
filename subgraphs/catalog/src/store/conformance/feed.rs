//! The outbox behind the search feed.

use super::*;

/// Every content write (upsert, variant change, deletion) appears once in the outbox, in the
/// order written, with the content as written; reviews do not (they are not searchable text).
pub async fn every_content_change_and_deletion_appears_in_the_outbox_in_order(
    store: &dyn CatalogStore,
) {
    let start = last_position(store).await;
    let (a, b) = (unique_sku("FA"), unique_sku("FB"));
    put(store, plain(&a)).await;
    put(store, plain(&b)).await;
    let mut changed = plain(&a);
    changed.description = "Changed.".into();
    store.upsert_content(changed.clone(), at(1)).await.unwrap();
    let v = variant(&format!("{b}-1"), "x", 0, 0);
    let with_variant = store.upsert_variant(&b, v, at(2)).await.unwrap();
    let review = crate::domain::NewReview::new(
        a.clone(),
        crate::domain::UserRef("u".into()),
        5,
        "Great",
        "",
        at(3),
    )
    .unwrap();
    store.add_review(review).await.unwrap();
    store.delete_content(&a, at(4)).await.unwrap();

    let mut ours = Vec::new();
    let mut after = start;
    for _ in 0..1_000 {
        let batch = store.content_changes_after(after, 3).await.unwrap();
        let Some(last) = batch.last() else { break };
        after = last.position;
        ours.extend(batch.into_iter().filter(|c| c.sku == a || c.sku == b));
    }
    for pair in ours.windows(2) {
        assert!(pair[0].position < pair[1].position, "positions increase");
    }
    let seen: Vec<(String, Option<String>)> = ours
        .iter()
        .map(|c| {
            (
                c.sku.to_string(),
                c.content.as_ref().map(|c| c.description.clone()),
            )
        })
        .collect();
    let described = |sku: &Sku, d: &str| (sku.to_string(), Some(d.to_owned()));
    assert_eq!(
        seen,
        [
            described(&a, &plain(&a).description),
            described(&b, &plain(&b).description),
            described(&a, "Changed."),
            described(&b, &with_variant.content.description),
            (a.to_string(), None),
        ]
    );
    assert_eq!(ours[3].content.as_ref().unwrap().variants.len(), 1);
}

/// The position of the newest outbox entry now (0 when empty).
pub(super) async fn last_position(store: &dyn CatalogStore) -> u64 {
    let mut after = 0;
    loop {
        let batch = store.content_changes_after(after, 500).await.unwrap();
        match batch.last() {
            Some(last) => after = last.position,
            None => return after,
        }
    }
}
