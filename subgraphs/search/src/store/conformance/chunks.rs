//! Checks of the vector collection: replacing, deleting, version checks and filtered search.

use super::{Scope, chunks_for, near, put_indexed, vector};
use crate::domain::{Body, Filter, Source, Tag};
use crate::store::{Exactness, SearchStore};

pub async fn updating_from_five_chunks_to_two_leaves_no_orphans(store: &dyn SearchStore) {
    let s = Scope::new("update");
    let doc = s.doc("long", "guides", &[], 420);
    let before = store.stats().await.unwrap().chunks;
    let v1 = put_indexed(store, &doc, "five", 5, 100).await;
    let chunks = store.chunks_of(&doc.id).await.unwrap();
    assert_eq!(
        chunks.iter().map(|c| c.index).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
    assert!(
        chunks
            .iter()
            .all(|c| c.version == 1 && c.id == doc.id.point(c.index))
    );
    assert_eq!(store.stats().await.unwrap().chunks, before + 5);
    let last = vector("five#4");
    let hits = store
        .nearest_chunks(&last, &s.filter(), 10, Exactness::Approximate)
        .await
        .unwrap();
    assert_eq!(
        (hits[0].document.clone(), hits[0].index),
        (doc.id.clone(), 4)
    );

    let mut shorter = doc.clone();
    shorter.body = Body::parse("a short body now").unwrap();
    let v2 = store
        .put_document(&shorter, 200)
        .await
        .unwrap()
        .into_document();
    assert_eq!(v2.version, v1.version + 1);
    assert!(
        store
            .index_document(None, &doc.id, v2.version, &chunks_for("two", 2))
            .await
            .unwrap()
    );
    let chunks = store.chunks_of(&doc.id).await.unwrap();
    assert_eq!(
        chunks.iter().map(|c| c.index).collect::<Vec<_>>(),
        vec![0, 1]
    );
    assert!(chunks.iter().all(|c| c.version == 2));
    assert_eq!(
        store.stats().await.unwrap().chunks,
        before + 2,
        "no orphans left behind"
    );
    let hits = store
        .nearest_chunks(&last, &s.filter(), 10, Exactness::Exact)
        .await
        .unwrap();
    assert_eq!(
        hits.len(),
        2,
        "only the two new chunks can be found: {hits:?}"
    );
    assert!(hits.iter().all(|h| h.index < 2 && h.text.contains("two")));
}

pub async fn a_delete_removes_the_document_and_every_chunk(store: &dyn SearchStore) {
    let s = Scope::new("delete");
    let doc = s.doc("gone", "guides", &[], 420);
    let keep = s.doc("kept", "guides", &[], 10);
    let before = store.stats().await.unwrap();
    put_indexed(store, &doc, "gone", 5, 100).await;
    put_indexed(store, &keep, "kept", 1, 100).await;
    assert!(store.delete_document(&doc.id, 300).await.unwrap());
    assert!(
        !store.delete_document(&doc.id, 301).await.unwrap(),
        "a second delete finds nothing"
    );
    assert!(
        store
            .documents_by_ids(std::slice::from_ref(&doc.id))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.chunks_of(&doc.id).await.unwrap().is_empty());
    let after = store.stats().await.unwrap();
    assert_eq!(after.chunks, before.chunks + 1);
    assert_eq!(after.documents, before.documents + 1);
    let hits = store
        .nearest_chunks(&vector("gone#0"), &s.filter(), 10, Exactness::Exact)
        .await
        .unwrap();
    assert_eq!(
        hits.iter().map(|h| h.document.clone()).collect::<Vec<_>>(),
        vec![keep.id.clone()]
    );
}

pub async fn a_stale_version_is_never_indexed(store: &dyn SearchStore) {
    let s = Scope::new("stale");
    let doc = s.doc("a", "guides", &[], 10);
    let v1 = store.put_document(&doc, 10).await.unwrap().into_document();
    let mut edited = doc.clone();
    edited.body = Body::parse("edited").unwrap();
    store.put_document(&edited, 20).await.unwrap();
    let written = store
        .index_document(None, &doc.id, v1.version, &chunks_for("old", 3))
        .await
        .unwrap();
    assert!(!written, "version 1 is not the current version");
    assert!(store.chunks_of(&doc.id).await.unwrap().is_empty());
    assert!(
        !store
            .index_document(None, &s.id("never-stored"), 1, &chunks_for("x", 1))
            .await
            .unwrap(),
        "an unknown document is refused"
    );
}

pub async fn nearest_chunks_come_closest_first_and_honour_every_filter(store: &dyn SearchStore) {
    let s = Scope::new("filters");
    let centre = vector("centre");
    let docs = [
        ("a", "guides", &["red"][..], 1_000, 0.1),
        ("b", "guides", &["blue"][..], 2_000, 0.2),
        ("c", "catalog", &["red"][..], 3_000, 0.3),
        ("d", "catalog", &["red", "blue"][..], 4_000, 0.4),
    ];
    for (n, source, tags, at, distance) in docs {
        let doc = s.doc(n, source, tags, 5);
        let stored = store.put_document(&doc, at).await.unwrap().into_document();
        let chunk = crate::store::ChunkPoint {
            index: 0,
            text: format!("about {n}"),
            vector: near(&centre, n, distance),
        };
        assert!(
            store
                .index_document(None, &doc.id, stored.version, &[chunk])
                .await
                .unwrap()
        );
    }
    let ids = |hits: Vec<crate::store::ChunkHit>| {
        hits.into_iter()
            .map(|h| h.document.as_str().rsplit(':').next().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let all = store
        .nearest_chunks(&centre, &s.filter(), 10, Exactness::Approximate)
        .await
        .unwrap();
    assert!(all.windows(2).all(|w| w[0].score >= w[1].score), "{all:?}");
    assert!(
        all[0].score > 0.9 && all[0].score <= 1.0001,
        "cosine similarity: {all:?}"
    );
    assert_eq!(ids(all), ["a", "b", "c", "d"]);

    let mut red = s.filter();
    red.tags.push(Tag::parse("red").unwrap());
    let hits = store
        .nearest_chunks(&centre, &red, 10, Exactness::Approximate)
        .await
        .unwrap();
    assert_eq!(ids(hits), ["a", "c", "d"]);

    let mut red_blue = red.clone();
    red_blue.tags.push(Tag::parse("blue").unwrap());
    let hits = store
        .nearest_chunks(&centre, &red_blue, 10, Exactness::Approximate)
        .await
        .unwrap();
    assert_eq!(ids(hits), ["d"], "every tag must match");

    let catalog = Filter {
        source: Some(Source::parse("catalog").unwrap()),
        ..s.filter()
    };
    let hits = store
        .nearest_chunks(&centre, &catalog, 10, Exactness::Approximate)
        .await
        .unwrap();
    assert_eq!(ids(hits), ["c", "d"]);

    let after = Filter {
        created_after: Some(2_000),
        ..s.filter()
    };
    let hits = store
        .nearest_chunks(&centre, &after, 10, Exactness::Approximate)
        .await
        .unwrap();
    assert_eq!(ids(hits), ["c", "d"], "strictly after");

    let limited = store
        .nearest_chunks(&centre, &s.filter(), 2, Exactness::Exact)
        .await
        .unwrap();
    assert_eq!(ids(limited), ["a", "b"]);
    let hit = &store
        .nearest_chunks(&centre, &s.filter(), 1, Exactness::Exact)
        .await
        .unwrap()[0];
    assert_eq!((hit.text.as_str(), hit.index), ("about a", 0));
    assert_eq!(hit.id, s.id("a").point(0));
}
