//! The embedded store after a restart and from a snapshot: the same documents and the same
//! answers, whether the graph was rebuilt from the rows or loaded from its file; and a rebuild
//! under the alias keeps every document searchable at its current version.

mod common;

use std::sync::Arc;

use polygate_search::domain::{Body, Filter};
use polygate_search::reindex::{ReindexOptions, reindex};
use polygate_search::store::{EmbeddedStore, Exactness, SearchStore, conformance};

async fn open(dir: &std::path::Path) -> EmbeddedStore {
    EmbeddedStore::open(dir, "chunks_initial", &conformance::spec())
        .await
        .unwrap()
}

async fn fill(store: &EmbeddedStore) {
    let s = conformance::Scope::new("durable");
    for n in 0..40 {
        let doc = s.doc(&format!("d{n:02}"), "guides", &[], 150);
        conformance::put_indexed(store, &doc, &format!("seed{n}"), 2, 1_000 + n).await;
    }
}

async fn answers(store: &dyn SearchStore) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for n in 0..5 {
        let hits = store
            .nearest_chunks(
                &conformance::vector(&format!("seed{n}#1")),
                &Filter::default(),
                3,
                Exactness::Approximate,
            )
            .await
            .unwrap();
        out.extend(hits.into_iter().map(|h| (h.document.to_string(), h.index)));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_answers_the_same_with_the_graph_rebuilt_or_loaded() {
    let dir = common::temp_dir("search_restart");
    let store = open(&dir).await;
    fill(&store).await;
    let before = answers(&store).await;
    let stats = store.stats().await.unwrap();
    drop(store);

    // No graph file was written: rebuilt from the rows.
    let rebuilt = open(&dir).await;
    assert_eq!(answers(&rebuilt).await, before);
    assert_eq!(rebuilt.stats().await.unwrap().chunks, stats.chunks);
    rebuilt.maintain().await.unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.join("ann"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(files.len(), 1, "one graph file, named by its write_seq");
    drop(rebuilt);

    let loaded = open(&dir).await;
    assert_eq!(answers(&loaded).await, before);
    // A write after the file was saved: the file is stale and ignored on the next open.
    let s = conformance::Scope::new("after");
    conformance::put_indexed(&loaded, &s.doc("x", "guides", &[], 5), "late", 1, 9).await;
    drop(loaded);
    let reopened = open(&dir).await;
    assert_eq!(reopened.stats().await.unwrap().chunks, stats.chunks + 1);
    let late = reopened
        .nearest_chunks(
            &conformance::vector("late#0"),
            &Filter::default(),
            1,
            Exactness::Approximate,
        )
        .await
        .unwrap();
    assert_eq!(late[0].document, s.id("x"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_restores_into_an_empty_folder_with_the_same_answers() {
    let dir = common::temp_dir("search_snap_src");
    let store = open(&dir).await;
    fill(&store).await;
    let before = answers(&store).await;
    let snapshot = common::temp_dir("search_snap");
    let started = std::time::Instant::now();
    store.snapshot(&snapshot).await.unwrap();
    eprintln!(
        "snapshot of 40 documents / 80 chunks: {:?}",
        started.elapsed()
    );
    assert!(
        store.snapshot(&snapshot).await.is_err(),
        "a snapshot never overwrites one"
    );
    // A write after the snapshot is not in it.
    let s = conformance::Scope::new("later");
    conformance::put_indexed(&store, &s.doc("x", "guides", &[], 5), "later", 1, 9).await;

    let restored_dir = common::temp_dir("search_restored");
    polygate_search::store::embedded::restore_snapshot(&snapshot, &restored_dir).unwrap();
    assert!(
        polygate_search::store::embedded::restore_snapshot(&snapshot, &restored_dir).is_err(),
        "restore refuses a folder that holds a store"
    );
    let restored = open(&restored_dir).await;
    assert_eq!(answers(&restored).await, before);
    assert_eq!(restored.stats().await.unwrap().documents, 40);
    assert!(
        restored
            .documents_by_ids(&[s.id("x")])
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_under_the_alias_keeps_every_document_at_its_current_version() {
    let store: Arc<dyn SearchStore> = common::embedded_store().await;
    let (service, clock) = common::service(store.clone(), Arc::new(common::WordsEmbedder));
    let docs: Vec<_> = polygate_search::seed::demo_documents();
    for doc in &docs {
        service.ingest(doc).await.unwrap();
    }
    let old = store.stats().await.unwrap().collection;
    // Writers keep editing while the rebuild runs.
    let writer = {
        let service = service.clone();
        let docs = docs.clone();
        tokio::spawn(async move {
            for round in 0..30 {
                let mut doc = docs[round % docs.len()].clone();
                doc.body = Body::parse(&format!("{} (edit {round})", doc.body.as_str())).unwrap();
                service.ingest(&doc).await.unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    clock.advance(1);
    let report = reindex(&service, &ReindexOptions::new(conformance::spec()))
        .await
        .unwrap();
    writer.await.unwrap();
    assert_eq!(report.previous.as_deref(), Some(old.as_str()));
    assert_eq!(
        store.collections().await.unwrap(),
        vec![report.collection.clone()],
        "the old one is dropped"
    );
    assert_eq!(store.stats().await.unwrap().collection, report.collection);
    for doc in store
        .documents_by_ids(&docs.iter().map(|d| d.id.clone()).collect::<Vec<_>>())
        .await
        .unwrap()
    {
        let chunks = store.chunks_of(&doc.id).await.unwrap();
        assert!(!chunks.is_empty(), "{} is in the new collection", doc.id);
        assert!(
            chunks.iter().all(|c| c.version == doc.version),
            "{} at version {}",
            doc.id,
            doc.version
        );
    }
}
