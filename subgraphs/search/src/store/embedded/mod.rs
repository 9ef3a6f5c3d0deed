//! The embedded adapter: everything in one folder under the data directory, no server.
//!
//! - `search.db` (SQLite, WAL): the documents, and every chunk's row with its payload and f32
//!   vector — the durable copy of each vector collection.
//! - one in-memory [`AnnCollection`] per collection: a usearch HNSW graph plus payload posting
//!   lists, built from those rows, and its graph file `ann/<collection>.usearch`, written in the
//!   background so a restart loads the graph instead of rebuilding it.
//!
//! Non-obvious: SQLite is the write-ahead log and the graph is derived. A write commits its rows
//! (and bumps the collection's `write_seq`) first, then changes the graph; writers are serialised
//! by one mutex so the graph applies writes in commit order. A graph file is used on open only if
//! it was written at the collection's current `write_seq`; otherwise (a crash after commit, a
//! lost file) the graph is rebuilt from the rows. So the graph can be behind the rows only in
//! memory, never after a restart.

mod ann;
mod chunks;
mod collections;
mod documents;
mod migrate;
mod rows;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

pub use ann::{AnnCollection, FULL_SCAN_THRESHOLD, OVERSAMPLING};
pub use collections::restore_snapshot;
use rows::from_sqlx;

use super::{
    Change, ChunkHit, ChunkPoint, CollectionSpec, DocumentPage, Exactness, IndexStats, PutOutcome,
    SearchStore, StoreError, StoredChunk, instrumented,
};
use crate::domain::{Document, DocumentId, Filter, NewDocument};

const ENGINE: &str = "embedded";
/// The database file inside the store's folder.
pub const DB_FILE: &str = "search.db";
/// The graph files' folder inside the store's folder.
pub const ANN_DIR: &str = "ann";

pub struct EmbeddedStore {
    pool: SqlitePool,
    dir: PathBuf,
    /// One writer at a time, so graphs apply writes in commit order.
    writer: tokio::sync::Mutex<()>,
    state: RwLock<State>,
}

struct State {
    /// The collection the alias names.
    active: String,
    loaded: HashMap<String, Arc<AnnCollection>>,
}

impl EmbeddedStore {
    /// Opens (creating if needed) the store in `dir`; a new store gets a collection
    /// `initial_collection` with `spec` under the alias.
    pub async fn open(
        dir: &Path,
        initial_collection: &str,
        spec: &CollectionSpec,
    ) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir.join(ANN_DIR))
            .map_err(|e| StoreError::Other(format!("cannot create {}: {e}", dir.display())))?;
        let options = SqliteConnectOptions::new()
            .filename(dir.join(DB_FILE))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(3))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(3))
            .connect_with(options)
            .await
            .map_err(from_sqlx)?;
        migrate::run(&pool).await.map_err(from_sqlx)?;
        let store = Self {
            pool,
            dir: dir.to_owned(),
            writer: tokio::sync::Mutex::new(()),
            state: RwLock::new(State {
                active: String::new(),
                loaded: HashMap::new(),
            }),
        };
        store.load_all(initial_collection, spec).await?;
        Ok(store)
    }

    /// A write transaction holding the database's write lock from its first statement.
    async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(from_sqlx)
    }

    fn state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn state_mut(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The collection the alias names.
    fn active(&self) -> Result<Arc<AnnCollection>, StoreError> {
        let state = self.state();
        state
            .loaded
            .get(&state.active)
            .cloned()
            .ok_or_else(|| StoreError::NoSuchCollection(state.active.clone()))
    }

    fn collection(&self, name: &str) -> Result<Arc<AnnCollection>, StoreError> {
        self.state()
            .loaded
            .get(name)
            .cloned()
            .ok_or_else(|| StoreError::NoSuchCollection(name.to_owned()))
    }

    /// Bytes the active graph and its quantized vectors take in memory.
    pub fn graph_memory_bytes(&self) -> usize {
        self.active().map_or(0, |c| c.memory_bytes())
    }

    /// Writes every changed graph to its file; the background saver calls it.
    pub async fn save_graphs(&self) -> Result<usize, StoreError> {
        let collections: Vec<Arc<AnnCollection>> = self.state().loaded.values().cloned().collect();
        let dir = self.dir.join(ANN_DIR);
        tokio::task::spawn_blocking(move || {
            let mut saved = 0;
            for collection in collections {
                if collections::save_graph(&dir, &collection)? {
                    saved += 1;
                }
            }
            Ok(saved)
        })
        .await
        .map_err(|e| StoreError::Other(format!("graph saver panicked: {e}")))?
    }
}

#[async_trait]
impl SearchStore for EmbeddedStore {
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
        Ok(self.active()?.sample(n, seed))
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
        let mut names: Vec<String> = self.state().loaded.keys().cloned().collect();
        names.sort();
        Ok(names)
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

    async fn maintain(&self) -> Result<(), StoreError> {
        self.save_graphs().await.map(|_| ())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        instrumented(ENGINE, "ping", async {
            sqlx::query("SELECT 1")
                .execute(&self.pool)
                .await
                .map(|_| ())
                .map_err(from_sqlx)
        })
        .await
    }

    fn engine(&self) -> &'static str {
        ENGINE
    }
}
