//! The MongoDB adapter of [`CatalogStore`] (MongoDB Atlas in the cloud; tested here on the
//! wire-compatible nx-27017, see `e2e/servers/mongodb.sh`). Collections: `products` (one
//! document per SKU, `store::document`), `reviews`, `content_changes` (the outbox, `_id` = its
//! position) and `counters`.
//!
//! Non-obvious decisions:
//! - Every write that touches two documents (content + outbox entry; review + product summary)
//!   is one multi-document transaction, which Atlas supports on every replica set and sharded
//!   cluster. That makes the outbox exact and retries safe, at the price of needing a replica
//!   set: a standalone `mongod` refuses transactions (Atlas never runs one).
//! - Only operators Atlas documents are used. Where a test server mishandles one, the adapter
//!   asks the server at connect time ([`ServerQuirks`]) and picks another Atlas-supported form:
//!   nx-27017 stores subdocuments `$push`ed with `$each` as strings, so there the review summary is
//!   written with `$set` of the values computed inside the same transaction instead of
//!   `$inc` + `$push`/`$sort`/`$slice`.
//! - Reads go to the configured read preference; reads inside a write, the outbox and dumps go to
//!   the primary (a secondary may lag, and the outbox must never skip an entry).

pub(crate) mod errors;
mod indexes;
mod reads;
mod writes;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{Document, doc};
use mongodb::options::{ClientOptions, CollectionOptions, ReadPreference, SelectionCriteria};
use mongodb::{Client, Collection, Database};

use super::{CatalogStore, Collection as Dumped, ContentChange, StoreError, instrumented};
use crate::domain::{
    CatalogProduct, NewReview, ProductContent, Review, ReviewCursor, ReviewOutcome, SearchQuery,
    Sku, Variant,
};
use errors::from_mongo;
pub use indexes::INDEXES;

const ENGINE: &str = "mongodb";

/// Connections per server the driver may open (every pool has a bound).
pub const MAX_POOL_SIZE: u32 = 32;

/// How the server behaves where test servers differ from MongoDB Atlas; found at connect time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerQuirks {
    /// `$push` with `$each` of subdocuments stores documents (false on nx-27017 0.8.1).
    pub push_each_keeps_documents: bool,
}

pub struct MongoStore {
    pub(crate) client: Client,
    pub(crate) db: Database,
    /// Reads that honour the configured read preference.
    products: Collection<Document>,
    reviews: Collection<Document>,
    /// The same collections on the primary.
    products_primary: Collection<Document>,
    reviews_primary: Collection<Document>,
    changes: Collection<Document>,
    counters: Collection<Document>,
    quirks: ServerQuirks,
    /// Taken by every multi-document transaction for its whole run: this store's transactions
    /// run one after another. Every content write updates the one outbox counter document, so
    /// on MongoDB concurrent content writes cannot commit side by side anyway: queueing them
    /// here replaces a storm of server-side write conflicts and retries (which, without it,
    /// exhausted the attempts under 8 concurrent writers) with a wait. And nx-27017 has no
    /// isolation between concurrent transactions at all (one SQLite transaction per database;
    /// a second session's transaction becomes a savepoint inside the first, so one commit
    /// commits both and the other then fails with "no such savepoint" although its writes are
    /// in): there, this is what makes concurrent writes correct. The cost: reviews, which touch
    /// no shared document, also queue (per process; see the design doc's figures).
    pub(crate) transactions: tokio::sync::Mutex<()>,
}

/// A read preference by its URL name (`primary`, `secondaryPreferred`, …).
pub fn read_preference(name: &str) -> Result<ReadPreference, StoreError> {
    Ok(match name {
        "primary" => ReadPreference::Primary,
        "primaryPreferred" => ReadPreference::PrimaryPreferred { options: None },
        "secondary" => ReadPreference::Secondary { options: None },
        "secondaryPreferred" => ReadPreference::SecondaryPreferred { options: None },
        "nearest" => ReadPreference::Nearest { options: None },
        other => {
            return Err(StoreError::Other(format!(
                "unknown read preference {other}"
            )));
        }
    })
}

impl MongoStore {
    /// Connects to `url`, uses `database`, ensures the indexes and learns the server's quirks.
    pub async fn connect(url: &str, database: &str, read_pref: &str) -> Result<Self, StoreError> {
        Self::connect_as(url, database, read_pref, None, None).await
    }

    /// [`Self::connect`] signing in as `username` / `password` instead of the URL's (each
    /// `None` keeps the URL's): set on the driver's credential, not spliced into the URL, so a
    /// seed list (`mongodb://h1,h2,h3/…`) and the URL's `authSource`/`authMechanism` stay as
    /// written.
    pub async fn connect_as(
        url: &str,
        database: &str,
        read_pref: &str,
        username: Option<String>,
        password: Option<String>,
    ) -> Result<Self, StoreError> {
        let mut options = ClientOptions::parse(url).await.map_err(from_mongo)?;
        if username.is_some() || password.is_some() {
            let mut credential = options.credential.take().unwrap_or_default();
            if username.is_some() {
                credential.username = username;
            }
            if password.is_some() {
                credential.password = password;
            }
            options.credential = Some(credential);
        }
        options.app_name = Some("polygate-catalog".into());
        options.max_pool_size = Some(MAX_POOL_SIZE);
        options.server_selection_timeout = Some(Duration::from_secs(3));
        options.connect_timeout = Some(Duration::from_secs(3));
        let client = Client::with_options(options).map_err(from_mongo)?;
        let db = client.database(database);
        let reads = CollectionOptions::builder()
            .selection_criteria(SelectionCriteria::ReadPreference(read_preference(
                read_pref,
            )?))
            .build();
        let primary = CollectionOptions::builder()
            .selection_criteria(SelectionCriteria::ReadPreference(ReadPreference::Primary))
            .build();
        let store = Self {
            products: db.collection_with_options("products", reads.clone()),
            reviews: db.collection_with_options("reviews", reads),
            products_primary: db.collection_with_options("products", primary.clone()),
            reviews_primary: db.collection_with_options("reviews", primary.clone()),
            changes: db.collection_with_options("content_changes", primary.clone()),
            counters: db.collection_with_options("counters", primary),
            quirks: ServerQuirks {
                push_each_keeps_documents: true,
            },
            transactions: tokio::sync::Mutex::new(()),
            client,
            db,
        };
        indexes::ensure(&store).await?;
        let quirks = indexes::probe_quirks(&store.db).await?;
        Ok(Self { quirks, ..store })
    }

    pub fn quirks(&self) -> ServerQuirks {
        self.quirks
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The filter `search` sends for `query` (for `explain` in tests and the design doc).
    pub fn search_filter(query: &SearchQuery) -> Document {
        reads::search_filter(query)
    }

    /// The filter of one page of a product's reviews (for `explain`).
    pub fn reviews_filter(sku: &Sku, after: Option<&ReviewCursor>) -> Document {
        reads::reviews_filter(sku, after)
    }

    /// `explain` of a find on `collection` with `filter`, `sort` and `limit`, in
    /// `executionStats` verbosity.
    pub async fn explain_find(
        &self,
        collection: &str,
        filter: Document,
        sort: Document,
        limit: i64,
    ) -> Result<Document, StoreError> {
        self.db
            .run_command(doc! {
                "explain": { "find": collection, "filter": filter, "sort": sort, "limit": limit },
                "verbosity": "executionStats",
            })
            .await
            .map_err(from_mongo)
    }

    /// Drops the whole database (tests clean up their fresh databases with it).
    pub async fn drop_database(&self) -> Result<(), StoreError> {
        self.db.drop().await.map_err(from_mongo)
    }
}

#[async_trait]
impl CatalogStore for MongoStore {
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
        collection: Dumped,
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
        collection: Dumped,
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
            self.db
                .run_command(doc! { "ping": 1 })
                .await
                .map(|_| ())
                .map_err(from_mongo)
        })
        .await
    }

    fn engine(&self) -> &'static str {
        ENGINE
    }
}

/// A stored document as JSON (relaxed extended JSON: numbers stay numbers).
pub(crate) fn to_json(doc: Document) -> serde_json::Value {
    mongodb::bson::Bson::Document(doc).into_relaxed_extjson()
}

/// JSON (without `$`-keys) as a BSON document.
pub(crate) fn to_document(value: &impl serde::Serialize) -> Result<Document, StoreError> {
    mongodb::bson::to_document(value).map_err(|e| StoreError::Other(e.to_string()))
}
