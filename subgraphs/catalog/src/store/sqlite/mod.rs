//! The embedded adapter of [`CatalogStore`]: one SQLite file under the data directory. Each
//! product is one JSON document (`products.doc`, the same shape MongoDB stores), and the
//! indexes MongoDB would keep on that document are tables derived from it in the same
//! transaction (`sql/catalog/sqlite/0001_catalog.sql`).
//!
//! Non-obvious: SQLite has one writer at a time, and a transaction that reads before it writes
//! cannot wait for the write lock, so every write begins with `BEGIN IMMEDIATE` and concurrent
//! writers queue on the busy timeout. That same serialisation is what keeps outbox positions
//! in commit order. Batches of SKUs travel as one JSON array expanded with `json_each`.

mod reads;
mod writes;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use super::{CatalogStore, Collection, ContentChange, StoreError, instrumented};
use crate::domain::{
    CatalogProduct, NewReview, ProductContent, Review, ReviewCursor, ReviewOutcome, SearchQuery,
    Sku, Variant,
};

const ENGINE: &str = "sqlite";

/// The migrations, compiled in (the workspace leaves sqlx's `macros` feature off).
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../../../../sql/catalog/sqlite/0001_catalog.sql"),
    ),
    (
        2,
        include_str!("../../../../../sql/catalog/sqlite/0002_text_by_rowid.sql"),
    ),
];

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating file and parent directories if needed) and migrates the database at
    /// `path`.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
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
        migrate(&pool).await?;
        Ok(Self { pool })
    }

    /// A write transaction holding the database's write lock from its first statement.
    async fn write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(from_sqlx)
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// SQLite's plan for the statement `search` runs for `query` (for the plan tests and the
    /// design doc).
    pub async fn explain_search(&self, query: &SearchQuery) -> Result<Vec<String>, StoreError> {
        reads::explain_search(self, query).await
    }
}

/// Applies the pending migrations and records them, in one transaction.
async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    let mut tx = pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(from_sqlx)?;
    sqlx::query("CREATE TABLE IF NOT EXISTS _catalog_migrations (version INTEGER PRIMARY KEY)")
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _catalog_migrations")
        .fetch_all(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    for &(version, sql) in MIGRATIONS {
        if applied.contains(&version) {
            continue;
        }
        // A plain `&str` runs unprepared, every statement in it (`raw_sql` would do the same
        // but its future is not `Send` for every lifetime, which `Subgraph::open` needs).
        sqlx::Executor::execute(&mut *tx, sql)
            .await
            .map_err(from_sqlx)?;
        sqlx::query("INSERT INTO _catalog_migrations (version) VALUES (?)")
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
    }
    tx.commit().await.map_err(from_sqlx)
}

/// Classifies a `sqlx` error.
pub(crate) fn from_sqlx(err: sqlx::Error) -> StoreError {
    use sqlx::Error as E;
    match &err {
        E::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        // 5 / 6 busy / locked and their extended codes.
        E::Database(db)
            if matches!(
                db.code().as_deref(),
                Some("5" | "6" | "261" | "262" | "517" | "773")
            ) =>
        {
            StoreError::Unavailable(err.to_string())
        }
        E::Io(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => {
            StoreError::Unavailable(err.to_string())
        }
        _ => StoreError::Other(err.to_string()),
    }
}

/// `items` as one JSON array, for a `json_each(?)` parameter.
fn json_array<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    serde_json::to_string(&items.into_iter().collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into())
}

#[async_trait]
impl CatalogStore for SqliteStore {
    async fn upsert_content(
        &self,
        content: ProductContent,
        now: DateTime<Utc>,
    ) -> Result<CatalogProduct, StoreError> {
        instrumented(
            ENGINE,
            "upsert_content",
            writes::upsert_content(self, content, now),
        )
        .await
    }

    async fn upsert_variant(
        &self,
        sku: &Sku,
        variant: Variant,
        now: DateTime<Utc>,
    ) -> Result<CatalogProduct, StoreError> {
        let edit = |c: &ProductContent| c.with_variant(variant.clone()).map(Some);
        instrumented(
            ENGINE,
            "upsert_variant",
            writes::edit_content(self, sku, now, edit),
        )
        .await
    }

    async fn remove_variant(
        &self,
        sku: &Sku,
        variant_sku: &Sku,
        now: DateTime<Utc>,
    ) -> Result<CatalogProduct, StoreError> {
        let edit = |c: &ProductContent| Ok(c.without_variant(variant_sku));
        instrumented(
            ENGINE,
            "remove_variant",
            writes::edit_content(self, sku, now, edit),
        )
        .await
    }

    async fn rename_brand(
        &self,
        from: &str,
        to: &str,
        limit: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<Sku>, StoreError> {
        instrumented(
            ENGINE,
            "rename_brand",
            writes::rename_brand(self, from, to, limit, now),
        )
        .await
    }

    async fn delete_content(&self, sku: &Sku, _now: DateTime<Utc>) -> Result<bool, StoreError> {
        instrumented(ENGINE, "delete_content", writes::delete_content(self, sku)).await
    }

    async fn products_by_skus(&self, skus: &[Sku]) -> Result<Vec<CatalogProduct>, StoreError> {
        if skus.is_empty() {
            return Ok(Vec::new());
        }
        instrumented(
            ENGINE,
            "products_by_skus",
            reads::products_by_skus(self, skus),
        )
        .await
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<CatalogProduct>, StoreError> {
        instrumented(ENGINE, "search", reads::search(self, query)).await
    }

    async fn add_review(&self, review: NewReview) -> Result<ReviewOutcome, StoreError> {
        instrumented(ENGINE, "add_review", writes::add_review(self, review)).await
    }

    async fn reviews(
        &self,
        sku: &Sku,
        first: u32,
        after: Option<&ReviewCursor>,
    ) -> Result<Vec<Review>, StoreError> {
        instrumented(ENGINE, "reviews", reads::reviews(self, sku, first, after)).await
    }

    async fn content_changes_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ContentChange>, StoreError> {
        instrumented(
            ENGINE,
            "content_changes_after",
            reads::content_changes_after(self, after, limit),
        )
        .await
    }

    async fn migrate_old_documents(&self, limit: usize) -> Result<usize, StoreError> {
        instrumented(
            ENGINE,
            "migrate_old_documents",
            writes::migrate_old_documents(self, limit),
        )
        .await
    }

    async fn documents_by_version(&self) -> Result<Vec<(u32, u64)>, StoreError> {
        instrumented(
            ENGINE,
            "documents_by_version",
            reads::documents_by_version(self),
        )
        .await
    }

    async fn export_documents(
        &self,
        collection: Collection,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        instrumented(
            ENGINE,
            "export_documents",
            reads::export_documents(self, collection, after, limit),
        )
        .await
    }

    async fn import_documents(
        &self,
        collection: Collection,
        documents: Vec<serde_json::Value>,
    ) -> Result<usize, StoreError> {
        instrumented(
            ENGINE,
            "import_documents",
            writes::import_documents(self, collection, documents),
        )
        .await
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
