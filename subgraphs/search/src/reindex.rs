//! Rebuilding the vector collection without downtime: fill a new collection from the documents
//! (the source of truth), point the alias at it in one step, catch up with what changed
//! meanwhile, drop the old one. Searches read through the alias the whole time.
//!
//! Non-obvious: deletions need no catch-up. A delete removes the document's chunks from every
//! collection, and indexing re-checks that the document still exists at the version it read, so
//! a document deleted mid-rebuild never lands in the new collection. Documents *written*
//! mid-rebuild are indexed into the old collection by the live path and refused by the rebuild
//! (their version moved), so they are re-indexed after the swap from `changes_since(start)`.

use futures::StreamExt as _;

use crate::domain::DocumentId;
use crate::service::{SearchService, ServiceError};
use crate::store::{Change, CollectionSpec};

/// Documents read per page.
pub const PAGE: usize = 256;
/// Documents indexed at once: enough to keep the embedder's batches full.
pub const CONCURRENCY: usize = 8;
/// Changes caught up after the swap at most (more are left to the pending indexer's next pass
/// and logged).
pub const MAX_CATCH_UP: usize = 100_000;

pub struct ReindexOptions {
    pub spec: CollectionSpec,
    /// Called with the number of documents done after each page.
    pub progress: Option<Box<dyn Fn(u64) + Send + Sync>>,
}

impl ReindexOptions {
    pub fn new(spec: CollectionSpec) -> Self {
        Self {
            spec,
            progress: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReindexReport {
    pub collection: String,
    pub previous: Option<String>,
    pub documents: u64,
    pub caught_up: u64,
}

pub async fn reindex(
    service: &SearchService,
    options: &ReindexOptions,
) -> Result<ReindexReport, ServiceError> {
    let store = &service.store;
    let started = service.clock.now_ms();
    let existing = store.collections().await?;
    let mut name = format!("chunks_{started}");
    let mut n = 1;
    while existing.contains(&name) {
        n += 1;
        name = format!("chunks_{started}_{n}");
    }
    store.create_collection(&name, &options.spec).await?;

    let mut cursor: Option<String> = None;
    let mut documents = 0u64;
    loop {
        let listed = store.list_documents(cursor.as_deref(), PAGE).await?;
        let page = listed.documents;
        let name = name.as_str();
        let results: Vec<Result<bool, ServiceError>> = futures::stream::iter(page.clone())
            .map(|doc| async move { service.index(&doc, Some(name)).await })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for result in results {
            result?;
        }
        documents += page.len() as u64;
        if let Some(progress) = &options.progress {
            progress(documents);
        }
        match listed.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }

    let previous = store.swap_alias(&name).await?;
    let mut caught_up = 0u64;
    let changes = store.changes_since(started, MAX_CATCH_UP).await?;
    if changes.len() == MAX_CATCH_UP {
        tracing::warn!(
            "more than {MAX_CATCH_UP} documents changed during the rebuild; the pending indexer \
             finishes the rest"
        );
    }
    let written: Vec<DocumentId> = changes
        .into_iter()
        .filter_map(|c| match c {
            Change::Written(id) => Some(id),
            Change::Deleted(_) => None,
        })
        .collect();
    for ids in written.chunks(PAGE) {
        for doc in store.documents_by_ids(ids).await? {
            if service.index(&doc, None).await? {
                caught_up += 1;
            }
        }
    }
    if let Some(old) = &previous {
        store.drop_collection(old).await?;
    }
    Ok(ReindexReport {
        collection: name,
        previous,
        documents,
        caught_up,
    })
}
