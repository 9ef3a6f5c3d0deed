//! The Qdrant adapter (Qdrant Cloud in production): two kinds of collection behind one prefix.
//!
//! - `<prefix>documents`: the source of truth, points without vectors keyed by a UUID of the
//!   document id. It also holds tombstones (deleted documents, for rebuilds) and followers'
//!   cursors, told apart by the keyword `kind`.
//! - `<prefix>chunks_<ms>`: one point per chunk (id derived from document id and chunk index),
//!   384-dim cosine vectors with int8 scalar quantization kept in RAM and the originals on disk,
//!   reached through the alias `<prefix>chunks`.
//!
//! Non-obvious: Qdrant has no transactions, so every write that could race is conditional.
//! A document is replaced only if its stored version is the one read (`update_filter`); chunks
//! are written only over chunks of an older or equal version, stale chunks deleted only up to
//! the written version, and `indexed_version` set only while the document still has that
//! version. Two indexers racing on one document therefore converge on the newest version's
//! chunks, never on a mix.

mod chunks;
mod collections;
mod documents;
mod payload;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use qdrant_client::{Qdrant, QdrantError};

use super::{
    ACTIVE, Change, ChunkHit, ChunkPoint, CollectionSpec, DocumentPage, Exactness, IndexStats,
    PutOutcome, SearchStore, StoreError, StoredChunk, instrumented,
};
use crate::domain::{Document, DocumentId, Filter, NewDocument};

const ENGINE: &str = "qdrant";

/// How chunk collections are laid out on the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QdrantLayout {
    pub shards: u32,
    pub replication_factor: u32,
    /// Original vectors on disk (memory-mapped), only the quantized ones in RAM.
    pub on_disk_vectors: bool,
}

impl Default for QdrantLayout {
    fn default() -> Self {
        Self {
            shards: 1,
            replication_factor: 1,
            on_disk_vectors: true,
        }
    }
}

pub struct QdrantStore {
    client: Qdrant,
    prefix: String,
    layout: QdrantLayout,
    /// `hnsw_ef` of searches.
    ef_search: u64,
}

impl QdrantStore {
    /// Connects to the Qdrant at `url` (gRPC, e.g. `http://127.0.0.1:6334`); creates the
    /// documents collection and, when the alias does not exist yet, `initial_collection` with
    /// `spec` under it.
    pub async fn connect(
        url: &str,
        api_key: Option<&str>,
        prefix: &str,
        layout: QdrantLayout,
        timeout: Duration,
        initial_collection: &str,
        spec: &CollectionSpec,
    ) -> Result<Self, StoreError> {
        let mut builder = Qdrant::from_url(url)
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(3));
        if let Some(key) = api_key.filter(|k| !k.is_empty()) {
            builder = builder.api_key(key.to_owned());
        }
        let client = builder.build().map_err(from_qdrant)?;
        let store = Self {
            client,
            prefix: prefix.to_owned(),
            layout,
            ef_search: u64::from(spec.ef_search),
        };
        store.ensure_layout(initial_collection, spec).await?;
        Ok(store)
    }

    /// The documents collection's full name.
    fn documents(&self) -> String {
        format!("{}documents", self.prefix)
    }

    /// The alias's full name.
    fn alias(&self) -> String {
        format!("{}{ACTIVE}", self.prefix)
    }

    /// A chunk collection's full name.
    fn full(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The collection a write goes to: `name`, or the alias.
    fn target(&self, name: Option<&str>) -> String {
        name.map_or_else(|| self.alias(), |n| self.full(n))
    }

    /// Deletes every collection with this store's prefix (tests clean up with it).
    pub async fn delete_everything(&self) -> Result<(), StoreError> {
        let _ = self.client.delete_alias(self.alias()).await;
        for name in self.own_collections().await? {
            self.client
                .delete_collection(name)
                .await
                .map_err(from_qdrant)?;
        }
        Ok(())
    }
}

/// Classifies a client error: connection trouble and timeouts are retryable.
pub(crate) fn from_qdrant(err: QdrantError) -> StoreError {
    match &err {
        QdrantError::ResponseError { status } => match status.code() as i32 {
            // Cancelled, DeadlineExceeded, ResourceExhausted, Aborted, Unavailable.
            1 | 4 | 8 | 10 | 14 => StoreError::Unavailable(err.to_string()),
            5 => StoreError::NoSuchCollection(status.message().to_owned()),
            _ => StoreError::Other(err.to_string()),
        },
        QdrantError::ResourceExhaustedError { .. } => StoreError::Unavailable(err.to_string()),
        _ => StoreError::Other(err.to_string()),
    }
}

#[async_trait]
impl SearchStore for QdrantStore {
    async fn put_document(&self, doc: &NewDocument, now_ms: i64) -> Result<PutOutcome, StoreError> {
        instrumented(ENGINE, "put_document", self.put(doc, now_ms)).await
    }

    async fn delete_document(&self, id: &DocumentId, now_ms: i64) -> Result<bool, StoreError> {
        instrumented(ENGINE, "delete_document", self.delete(id, now_ms)).await
    }

    async fn documents_by_ids(&self, ids: &[DocumentId]) -> Result<Vec<Document>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        instrumented(ENGINE, "documents_by_ids", self.by_ids(ids)).await
    }

    async fn list_documents(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<DocumentPage, StoreError> {
        instrumented(ENGINE, "list_documents", self.list(cursor, limit)).await
    }

    async fn pending_documents(&self, limit: usize) -> Result<Vec<Document>, StoreError> {
        instrumented(ENGINE, "pending_documents", self.pending(limit)).await
    }

    async fn changes_since(&self, since_ms: i64, limit: usize) -> Result<Vec<Change>, StoreError> {
        instrumented(ENGINE, "changes_since", self.changes(since_ms, limit)).await
    }

    async fn index_document(
        &self,
        collection: Option<&str>,
        id: &DocumentId,
        version: u64,
        chunks: &[ChunkPoint],
    ) -> Result<bool, StoreError> {
        instrumented(
            ENGINE,
            "index_document",
            self.index(collection, id, version, chunks),
        )
        .await
    }

    async fn nearest_chunks(
        &self,
        vector: &[f32],
        filter: &Filter,
        limit: usize,
        exactness: Exactness,
    ) -> Result<Vec<ChunkHit>, StoreError> {
        let operation = match exactness {
            Exactness::Approximate => "nearest_chunks",
            Exactness::Exact => "nearest_chunks_exact",
        };
        instrumented(
            ENGINE,
            operation,
            self.nearest(vector, filter, limit, exactness),
        )
        .await
    }

    async fn chunks_of(&self, id: &DocumentId) -> Result<Vec<StoredChunk>, StoreError> {
        instrumented(ENGINE, "chunks_of", self.stored_chunks(id)).await
    }

    async fn sample_vectors(&self, n: usize, seed: u64) -> Result<Vec<Vec<f32>>, StoreError> {
        instrumented(ENGINE, "sample_vectors", self.sample(n, seed)).await
    }

    async fn stats(&self) -> Result<IndexStats, StoreError> {
        instrumented(ENGINE, "stats", self.read_stats()).await
    }

    async fn create_collection(&self, name: &str, spec: &CollectionSpec) -> Result<(), StoreError> {
        instrumented(ENGINE, "create_collection", self.create(name, spec)).await
    }

    async fn swap_alias(&self, name: &str) -> Result<Option<String>, StoreError> {
        instrumented(ENGINE, "swap_alias", self.swap(name)).await
    }

    async fn drop_collection(&self, name: &str) -> Result<(), StoreError> {
        instrumented(ENGINE, "drop_collection", self.drop_named(name)).await
    }

    async fn collections(&self) -> Result<Vec<String>, StoreError> {
        instrumented(ENGINE, "collections", self.chunk_collections()).await
    }

    async fn cursor(&self, name: &str) -> Result<u64, StoreError> {
        instrumented(ENGINE, "cursor", self.read_cursor(name)).await
    }

    async fn set_cursor(&self, name: &str, position: u64) -> Result<(), StoreError> {
        instrumented(ENGINE, "set_cursor", self.write_cursor(name, position)).await
    }

    async fn snapshot(&self, dest: &Path) -> Result<(), StoreError> {
        self.write_snapshot(dest).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        instrumented(ENGINE, "ping", async {
            self.client
                .health_check()
                .await
                .map(|_| ())
                .map_err(from_qdrant)
        })
        .await
    }

    fn engine(&self) -> &'static str {
        ENGINE
    }
}
