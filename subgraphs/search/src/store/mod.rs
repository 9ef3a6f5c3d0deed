//! The search store port: documents (the source of truth) and the vector collection derived from
//! them, one point per chunk. Adapters: `embedded` (SQLite for documents and chunk rows, an
//! in-process usearch HNSW per collection) and `qdrant` (two Qdrant collections). Both pass
//! `conformance`.
//!
//! Non-obvious decisions:
//! - Writing a document and indexing it are two calls. `put_document` stores the text and bumps
//!   the version; `index_document` replaces the chunks of exactly that version and marks it
//!   indexed, refusing (false) when the document changed meanwhile. So a document whose embedding
//!   failed (no model yet, an overloaded embedder) is stored and waits as *pending*, and a slow
//!   indexer can never overwrite newer chunks with older ones.
//! - The vector collection is reached through an alias ([`ACTIVE`]), so a rebuild fills a new
//!   collection while searches use the old one, then swaps the alias in one step.
//! - Adapters never return their client's error types: callers see `Unavailable` (retryable) or
//!   `Other`.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use polygate_kit::metrics::StoreCallTimer;

use crate::domain::{Document, DocumentId, Filter, NewDocument, PointId, Source, Tags, Title};

pub mod conformance;
pub mod embedded;
pub mod qdrant;

pub use embedded::EmbeddedStore;
pub use qdrant::{QdrantLayout, QdrantStore};

/// The alias searches and indexing go through.
pub const ACTIVE: &str = "chunks";

/// Longest a single store call may take before it counts as `Unavailable`. Generous because a
/// batch upsert of a long document's chunks waits for Qdrant to apply it (`wait=true`).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or did not answer in time.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A collection named in the call does not exist.
    #[error("no such collection: {0}")]
    NoSuchCollection(String),
    /// Anything else: a failed query, data that does not decode.
    #[error("store error: {0}")]
    Other(String),
}

/// What [`SearchStore::put_document`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    /// A new document, version 1.
    Created(Document),
    /// A field changed: the version went up by one and the document is pending.
    Changed(Document),
    /// Every field was equal to the stored ones: nothing was written (a retried write).
    Unchanged(Document),
}

impl PutOutcome {
    pub fn document(&self) -> &Document {
        match self {
            PutOutcome::Created(d) | PutOutcome::Changed(d) | PutOutcome::Unchanged(d) => d,
        }
    }

    pub fn into_document(self) -> Document {
        match self {
            PutOutcome::Created(d) | PutOutcome::Changed(d) | PutOutcome::Unchanged(d) => d,
        }
    }
}

/// One chunk to write: its id, place and vector. The payload (title, source, tags, created_at,
/// version) comes from the document it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkPoint {
    pub index: u32,
    pub text: String,
    pub vector: Vec<f32>,
}

/// A stored chunk with its payload.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredChunk {
    pub id: PointId,
    pub document: DocumentId,
    pub index: u32,
    pub text: String,
    pub title: Title,
    pub source: Source,
    pub tags: Tags,
    pub created_at: i64,
    pub version: u64,
    pub vector: Vec<f32>,
}

/// One chunk found by a search; `score` is the cosine similarity (higher is closer).
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkHit {
    pub id: PointId,
    pub document: DocumentId,
    pub index: u32,
    pub score: f32,
    pub text: String,
}

/// Whether a search walks the HNSW graph or compares with every candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exactness {
    /// The index (HNSW, quantized with rescoring): what every query uses.
    Approximate,
    /// Every point: the ground truth the recall probe and the bench measure the index against.
    Exact,
}

/// A vector collection's settings; recorded when it is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionSpec {
    /// Edges per HNSW node.
    pub m: u32,
    /// Candidates kept while inserting.
    pub ef_construct: u32,
    /// Candidates kept while searching.
    pub ef_search: u32,
    /// `int8` (scalar quantization, rescored with the original vectors) or `none`.
    pub quantization: Quantization,
    /// Vector length.
    pub dimensions: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantization {
    None,
    Int8,
}

/// Sizes for `/metrics` and the re-index report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexStats {
    /// The collection the alias names.
    pub collection: String,
    pub documents: u64,
    /// Documents whose current version is not (yet) in the index.
    pub pending: u64,
    pub chunks: u64,
    /// Updated-at of the oldest pending document, ms since the epoch.
    pub oldest_pending_ms: Option<i64>,
    /// Memory of an in-process graph (0 for a server).
    pub graph_memory_bytes: u64,
}

/// One page of [`SearchStore::list_documents`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentPage {
    pub documents: Vec<Document>,
    /// The cursor of the next page; `None` on the last one.
    pub next: Option<String>,
}

/// A document changed or deleted at or after some instant, for a rebuild's catch-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Written(DocumentId),
    Deleted(DocumentId),
}

/// Everything the search subgraph reads and writes.
#[async_trait]
pub trait SearchStore: Send + Sync {
    // ---- documents (the source of truth) ----------------------------------------------------
    /// Stores `doc` at `now_ms`: creates it (version 1), bumps its version when a field differs,
    /// or changes nothing when every field is equal.
    async fn put_document(&self, doc: &NewDocument, now_ms: i64) -> Result<PutOutcome, StoreError>;
    /// Deletes the document and every chunk of it in every collection; records the deletion at
    /// `now_ms` for rebuilds. False when there was no such document.
    async fn delete_document(&self, id: &DocumentId, now_ms: i64) -> Result<bool, StoreError>;
    /// The documents among `ids` that exist, in any order, in one call.
    async fn documents_by_ids(&self, ids: &[DocumentId]) -> Result<Vec<Document>, StoreError>;
    /// Up to `limit` documents from the page `cursor` names (the first page when `None`), in an
    /// order the adapter chooses but keeps: every document appears once over all pages.
    async fn list_documents(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<DocumentPage, StoreError>;
    /// Up to `limit` documents whose current version is not indexed, oldest change first.
    async fn pending_documents(&self, limit: usize) -> Result<Vec<Document>, StoreError>;
    /// Documents written or deleted at or after `since_ms`, at most `limit`.
    async fn changes_since(&self, since_ms: i64, limit: usize) -> Result<Vec<Change>, StoreError>;

    // ---- chunks (the vector collection) -----------------------------------------------------
    /// Replaces every chunk of the document in `collection` (the alias when `None`) with
    /// `chunks`, provided its stored version is still `version`; through the alias it also marks
    /// that version indexed. False (nothing written) when the document is gone or changed.
    async fn index_document(
        &self,
        collection: Option<&str>,
        id: &DocumentId,
        version: u64,
        chunks: &[ChunkPoint],
    ) -> Result<bool, StoreError>;
    /// The `limit` chunks nearest `vector` that pass `filter`, closest first.
    async fn nearest_chunks(
        &self,
        vector: &[f32],
        filter: &Filter,
        limit: usize,
        exactness: Exactness,
    ) -> Result<Vec<ChunkHit>, StoreError>;
    /// Every chunk of one document in the active collection, by index.
    async fn chunks_of(&self, id: &DocumentId) -> Result<Vec<StoredChunk>, StoreError>;
    /// Up to `n` vectors of the active collection spread over it (recall probes), chosen by
    /// `seed` so a probe can be repeated.
    async fn sample_vectors(&self, n: usize, seed: u64) -> Result<Vec<Vec<f32>>, StoreError>;
    async fn stats(&self) -> Result<IndexStats, StoreError>;

    // ---- collections under the alias --------------------------------------------------------
    /// Creates an empty collection named `name` with `spec`.
    async fn create_collection(&self, name: &str, spec: &CollectionSpec) -> Result<(), StoreError>;
    /// Points the alias at `name` in one step; returns the collection it named before.
    async fn swap_alias(&self, name: &str) -> Result<Option<String>, StoreError>;
    /// Drops a collection the alias does not name.
    async fn drop_collection(&self, name: &str) -> Result<(), StoreError>;
    /// Every collection of this store, the active one included.
    async fn collections(&self) -> Result<Vec<String>, StoreError>;

    // ---- followers' cursors -----------------------------------------------------------------
    /// The position a follower named `name` has consumed up to (0 when it never ran).
    async fn cursor(&self, name: &str) -> Result<u64, StoreError>;
    async fn set_cursor(&self, name: &str, position: u64) -> Result<(), StoreError>;

    // ---- operations -------------------------------------------------------------------------
    /// Writes a consistent copy of the store into the folder `dest` (created, must be empty).
    async fn snapshot(&self, dest: &Path) -> Result<(), StoreError>;
    /// Periodic housekeeping (the embedded store writes changed HNSW graphs to their files).
    async fn maintain(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// A trivial round trip, for readiness.
    async fn ping(&self) -> Result<(), StoreError>;
    /// `embedded` or `qdrant`: the engine label in metrics and probes.
    fn engine(&self) -> &'static str;
}

/// Runs one store call under [`CALL_TIMEOUT`] and records it in the store metrics.
pub(crate) async fn instrumented<T>(
    engine: &'static str,
    operation: &'static str,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let timer = StoreCallTimer::start(crate::NAME, engine, operation);
    let result = match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(result) => result,
        Err(_) => Err(StoreError::Unavailable(format!(
            "{engine} {operation} timed out after {CALL_TIMEOUT:?}"
        ))),
    };
    timer.finish(result)
}

/// A collection name: 1 to 64 of `a-z 0-9 _ -`, so it is valid in Qdrant, in a file name and in
/// SQL text alike.
pub fn check_collection_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Other(format!(
            "invalid collection name {name:?}"
        )))
    }
}
