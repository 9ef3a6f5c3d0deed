//! Checks of the documents, the source of truth.

use super::{Scope, chunks_for};
use crate::domain::Body;
use crate::store::{Change, PutOutcome, SearchStore};

pub async fn put_creates_then_bumps_the_version_only_on_change(store: &dyn SearchStore) {
    let s = Scope::new("put");
    let doc = s.doc("a", "guides", &[], 10);
    let created = store.put_document(&doc, 1_000).await.unwrap();
    let PutOutcome::Created(first) = created else {
        panic!("a new document is created: {created:?}")
    };
    assert_eq!(
        (first.version, first.created_at, first.updated_at),
        (1, 1_000, 1_000)
    );
    assert_eq!(first.indexed_version, None);

    let again = store.put_document(&doc, 2_000).await.unwrap();
    assert!(matches!(again, PutOutcome::Unchanged(_)), "{again:?}");
    assert_eq!(
        again.document().version,
        1,
        "a retried write changes nothing"
    );
    assert_eq!(again.document().updated_at, 1_000);

    let mut edited = doc.clone();
    edited.body = Body::parse("a different body").unwrap();
    let changed = store.put_document(&edited, 3_000).await.unwrap();
    let PutOutcome::Changed(second) = changed else {
        panic!("an edit changes the document: {changed:?}")
    };
    assert_eq!(
        (second.version, second.created_at, second.updated_at),
        (2, 1_000, 3_000)
    );
    let read = store
        .documents_by_ids(std::slice::from_ref(&doc.id))
        .await
        .unwrap();
    assert_eq!(read, vec![second]);
}

pub async fn documents_by_ids_and_list_return_exactly_what_exists(store: &dyn SearchStore) {
    let s = Scope::new("list");
    for n in ["a", "b", "c", "d", "e"] {
        store
            .put_document(&s.doc(n, "guides", &[], 3), 10)
            .await
            .unwrap();
    }
    let mut found = store
        .documents_by_ids(&[s.id("b"), s.id("d"), s.id("missing")])
        .await
        .unwrap();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        found.iter().map(|d| d.id.clone()).collect::<Vec<_>>(),
        vec![s.id("b"), s.id("d")]
    );
    assert!(store.documents_by_ids(&[]).await.unwrap().is_empty());

    // Every document once over all pages, whatever the page size.
    let mut cursor: Option<String> = None;
    let mut mine = Vec::new();
    let mut pages = 0;
    loop {
        let page = store.list_documents(cursor.as_deref(), 2).await.unwrap();
        assert!(page.documents.len() <= 2);
        mine.extend(
            page.documents
                .into_iter()
                .map(|d| d.id)
                .filter(|id| id.as_str().starts_with(s.tag.as_str())),
        );
        pages += 1;
        assert!(pages < 100_000, "pages end");
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    mine.sort();
    assert_eq!(mine, ["a", "b", "c", "d", "e"].map(|n| s.id(n)));
}

pub async fn pending_documents_are_the_unindexed_versions(store: &dyn SearchStore) {
    let s = Scope::new("pending");
    let doc = s.doc("a", "guides", &[], 3);
    let stored = store.put_document(&doc, 50).await.unwrap().into_document();
    let pending = |all: Vec<crate::domain::Document>| all.into_iter().any(|d| d.id == doc.id);
    assert!(pending(store.pending_documents(100_000).await.unwrap()));
    store
        .index_document(None, &doc.id, stored.version, &chunks_for("p", 1))
        .await
        .unwrap();
    let read = store
        .documents_by_ids(std::slice::from_ref(&doc.id))
        .await
        .unwrap();
    assert!(read[0].is_indexed(), "{read:?}");
    assert!(!pending(store.pending_documents(100_000).await.unwrap()));

    let mut edited = doc.clone();
    edited.body = Body::parse("changed").unwrap();
    store.put_document(&edited, 60).await.unwrap();
    let read = store
        .documents_by_ids(std::slice::from_ref(&doc.id))
        .await
        .unwrap();
    assert_eq!((read[0].version, read[0].indexed_version), (2, Some(1)));
    assert!(pending(store.pending_documents(100_000).await.unwrap()));
}

pub async fn changes_since_reports_writes_and_deletes(store: &dyn SearchStore) {
    let s = Scope::new("changes");
    // Far in the future, so other checks' writes (at small times) are not in the window.
    let t0 = 4_000_000_000_000;
    store
        .put_document(&s.doc("old", "guides", &[], 3), t0 - 1)
        .await
        .unwrap();
    store
        .put_document(&s.doc("new", "guides", &[], 3), t0 + 1)
        .await
        .unwrap();
    store
        .put_document(&s.doc("gone", "guides", &[], 3), t0 - 5)
        .await
        .unwrap();
    assert!(store.delete_document(&s.id("gone"), t0 + 2).await.unwrap());
    let changes = store.changes_since(t0, 1000).await.unwrap();
    let mine: Vec<Change> = changes
        .into_iter()
        .filter(|c| match c {
            Change::Written(id) | Change::Deleted(id) => id.as_str().starts_with(s.tag.as_str()),
        })
        .collect();
    assert_eq!(
        mine,
        vec![Change::Written(s.id("new")), Change::Deleted(s.id("gone"))]
    );
}
