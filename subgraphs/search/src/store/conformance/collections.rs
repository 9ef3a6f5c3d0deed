//! Checks of collections under the alias, cursors and readiness.

use super::{Scope, put_indexed, spec, vector};
use crate::store::{Exactness, SearchStore};

pub async fn a_swapped_alias_serves_the_new_collection_and_the_old_one_can_be_dropped(
    store: &dyn SearchStore,
) {
    let s = Scope::new("alias");
    let doc = s.doc("a", "guides", &[], 10);
    let stored = put_indexed(store, &doc, "old-vectors", 1, 10).await;
    let old = store.stats().await.unwrap().collection;
    let new = format!("chunks_{}", s.tag.as_str().replace(':', "_"));
    let new = new.chars().take(60).collect::<String>();
    store.create_collection(&new, &spec()).await.unwrap();
    assert!(store.collections().await.unwrap().contains(&new));
    let chunk = crate::store::ChunkPoint {
        index: 0,
        text: "rebuilt".into(),
        vector: vector("new-vectors"),
    };
    assert!(
        store
            .index_document(Some(&new), &doc.id, stored.version, &[chunk])
            .await
            .unwrap()
    );
    let filter = s.filter();
    let search = |seed: &'static str| {
        let filter = filter.clone();
        async move {
            store
                .nearest_chunks(&vector(seed), &filter, 1, Exactness::Exact)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        search("old-vectors").await[0].text,
        "chunk 0 of old-vectors",
        "before the swap"
    );

    let previous = store.swap_alias(&new).await.unwrap();
    assert_eq!(previous.as_deref(), Some(old.as_str()));
    assert_eq!(store.stats().await.unwrap().collection, new);
    let hit = &search("new-vectors").await[0];
    assert_eq!(hit.text, "rebuilt");
    assert!(hit.score > 0.99);
    assert!(
        store.drop_collection(&new).await.is_err(),
        "the alias's target cannot be dropped"
    );

    // Back to the old collection, so the other checks sharing this store keep their data.
    store.swap_alias(&old).await.unwrap();
    store.drop_collection(&new).await.unwrap();
    assert!(!store.collections().await.unwrap().contains(&new));
    assert_eq!(
        search("old-vectors").await[0].text,
        "chunk 0 of old-vectors"
    );
}

pub async fn cursors_round_trip(store: &dyn SearchStore) {
    let s = Scope::new("cursor");
    let name = s.tag.as_str();
    assert_eq!(store.cursor(name).await.unwrap(), 0);
    store.set_cursor(name, 42).await.unwrap();
    store.set_cursor(name, 43).await.unwrap();
    assert_eq!(store.cursor(name).await.unwrap(), 43);
}

pub async fn ping_succeeds(store: &dyn SearchStore) {
    store.ping().await.unwrap();
}
