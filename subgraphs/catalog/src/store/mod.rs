//! The catalog store port and what its adapters share: the error type, the timeout and metrics
//! wrapper every call goes through, and the slow-operation log.
//!
//! Non-obvious: every content write appends to an outbox (`content_changes`) in the same
//! atomic write as the content itself (one SQLite transaction; one MongoDB multi-document
//! transaction), so the search feed can never miss a change or see one that was rolled back, and
//! positions come out in commit order (the writers serialise on the outbox counter).

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use polygate_kit::metrics::StoreCallTimer;

use crate::domain::{
    CatalogProduct, NewReview, ProductContent, Review, ReviewCursor, ReviewOutcome, SearchQuery,
    Sku, Variant,
};

pub mod conformance;
pub mod document;
pub mod mongo;
pub mod sqlite;

pub use mongo::MongoStore;
pub use sqlite::SqliteStore;

/// Longest a single store call may take before it counts as `Unavailable`.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A rule across documents was broken (a variant SKU another product has; a second,
    /// different review by the same user).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The product (or variant) the write names has no content.
    #[error("not found: {0}")]
    NotFound(String),
    /// The store could not be reached or did not answer in time.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a refused command, a document that does not decode.
    #[error("store error: {0}")]
    Other(String),
}

/// A stored document that fails the domain rules; only a bug or a manual edit produces one.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("corrupt document: {what}"))
}

/// One entry of the content outbox: a product's content as it was written, or its deletion.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentChange {
    pub position: u64,
    pub sku: Sku,
    /// `None`: the content was deleted.
    pub content: Option<ProductContent>,
}

/// The collections a dump holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Products,
    Reviews,
}

impl Collection {
    pub const ALL: [Collection; 2] = [Collection::Products, Collection::Reviews];

    pub fn name(self) -> &'static str {
        match self {
            Collection::Products => "products",
            Collection::Reviews => "reviews",
        }
    }
}

/// Everything the catalog subgraph reads and writes. `now` on a write is the time it records
/// (callers take it from their clock).
#[async_trait]
pub trait CatalogStore: Send + Sync {
    // ---- content -----------------------------------------------------------------------------
    /// Creates or replaces a product's content (rating and reviews are kept) and appends it to
    /// the outbox. `Conflict` when one of its variant SKUs belongs to another product.
    async fn upsert_content(
        &self,
        content: ProductContent,
        now: DateTime<Utc>,
    ) -> Result<CatalogProduct, StoreError>;
    /// Adds or replaces one variant (by its SKU). `NotFound` without content for `sku`;
    /// `Conflict` as for [`upsert_content`](Self::upsert_content).
    async fn upsert_variant(
        &self,
        sku: &Sku,
        variant: Variant,
        now: DateTime<Utc>,
    ) -> Result<CatalogProduct, StoreError>;
    /// Removes one variant. `NotFound` when the product or the variant does not exist.
    async fn remove_variant(
        &self,
        sku: &Sku,
        variant_sku: &Sku,
        now: DateTime<Utc>,
    ) -> Result<CatalogProduct, StoreError>;
    /// Renames a brand in every product that carries it (the brand name is copied into each
    /// document), each rewritten product appended to the outbox; at most `limit` products per
    /// call, in one transaction. Returns the SKUs rewritten: call again until none.
    async fn rename_brand(
        &self,
        from: &str,
        to: &str,
        limit: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<Sku>, StoreError>;
    /// Deletes a product's content and reviews and appends the deletion to the outbox; false
    /// when there was none.
    async fn delete_content(&self, sku: &Sku, now: DateTime<Utc>) -> Result<bool, StoreError>;

    // ---- reads -------------------------------------------------------------------------------
    /// The products among `skus` that have content, in any order, in one query.
    async fn products_by_skus(&self, skus: &[Sku]) -> Result<Vec<CatalogProduct>, StoreError>;
    /// Up to `query.limit` products matching every condition, in SKU order after `query.after`.
    async fn search(&self, query: &SearchQuery) -> Result<Vec<CatalogProduct>, StoreError>;

    // ---- reviews -----------------------------------------------------------------------------
    /// Adds a review and updates the product's rating summary and latest reviews in the same
    /// write. A retry of the same review is `AlreadyAdded`; a different review by the same
    /// author is `Conflict`; `NotFound` when the product has no content.
    async fn add_review(&self, review: NewReview) -> Result<ReviewOutcome, StoreError>;
    /// Up to `first` of the product's reviews, newest first, after `after`.
    async fn reviews(
        &self,
        sku: &Sku,
        first: u32,
        after: Option<&ReviewCursor>,
    ) -> Result<Vec<Review>, StoreError>;

    // ---- the outbox (the search feed) ---------------------------------------------------------
    /// Up to `limit` outbox entries with positions above `after`, in position order.
    async fn content_changes_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ContentChange>, StoreError>;

    // ---- operations --------------------------------------------------------------------------
    /// Rewrites up to `limit` product documents stored in an older shape in the current one
    /// (content unchanged, so nothing is appended to the outbox); returns how many.
    async fn migrate_old_documents(&self, limit: usize) -> Result<usize, StoreError>;
    /// How many product documents are stored in each schema version, oldest first.
    async fn documents_by_version(&self) -> Result<Vec<(u32, u64)>, StoreError>;
    /// Up to `limit` raw stored documents of `collection` with ids above `after`, by id: a dump.
    async fn export_documents(
        &self,
        collection: Collection,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<serde_json::Value>, StoreError>;
    /// Writes raw documents as they are (any known version), replacing ones with the same id: a
    /// restore. Products are appended to the outbox, so search re-indexes what came back.
    async fn import_documents(
        &self,
        collection: Collection,
        documents: Vec<serde_json::Value>,
    ) -> Result<usize, StoreError>;
    /// A trivial round trip, for readiness.
    async fn ping(&self) -> Result<(), StoreError>;
    /// `mongodb` or `sqlite`: the engine label in metrics and probes.
    fn engine(&self) -> &'static str;
}

/// Store calls slower than this are logged as slow operations (set once at start from
/// `slow_op_ms`).
static SLOW_OP: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();

/// Sets the slow-operation threshold for this process (the first call wins).
pub fn set_slow_operation_threshold(threshold: Duration) {
    let _ = SLOW_OP.set(threshold);
}

/// Runs one store call under [`CALL_TIMEOUT`], records it in the store metrics (per operation:
/// the per-query latency Performance Advisor would show) and logs it when slow.
pub(crate) async fn instrumented<T>(
    engine: &'static str,
    operation: &'static str,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let timer = StoreCallTimer::start(crate::NAME, engine, operation);
    let started = std::time::Instant::now();
    let result = match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(result) => result,
        Err(_) => Err(StoreError::Unavailable(format!(
            "{engine} {operation} timed out after {CALL_TIMEOUT:?}"
        ))),
    };
    let elapsed = started.elapsed();
    let threshold = *SLOW_OP.get_or_init(|| Duration::from_millis(100));
    if elapsed >= threshold {
        crate::metrics::SLOW_OPERATIONS
            .with_label_values(&[engine, operation])
            .inc();
        tracing::warn!(
            subgraph = crate::NAME,
            engine,
            operation,
            elapsed_ms = elapsed.as_millis() as u64,
            ok = result.is_ok(),
            "slow store operation"
        );
    }
    timer.finish(result)
}

/// The product after a content write: `content` with the rating and reviews it had, one
/// revision further.
pub(crate) fn next_product(
    existing: Option<CatalogProduct>,
    content: ProductContent,
    now: DateTime<Utc>,
) -> CatalogProduct {
    let (rating, recent_reviews, revision) = match existing {
        Some(p) => (p.rating, p.recent_reviews, p.revision),
        None => (Default::default(), Vec::new(), 0),
    };
    CatalogProduct {
        content,
        rating,
        recent_reviews,
        revision: revision + 1,
        updated_at: DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now),
        stored_version: document::CURRENT_VERSION,
    }
}

/// The product with `review` counted in its summary and placed among its latest reviews.
pub(crate) fn with_review(mut product: CatalogProduct, review: &Review) -> CatalogProduct {
    product.rating = product.rating.with(review.rating);
    product.recent_reviews.push(review.clone());
    sort_newest_first(&mut product.recent_reviews);
    product
        .recent_reviews
        .truncate(crate::domain::RatingSummary::RECENT);
    product
}

/// Newest first; ties (the same millisecond) by id, descending, as the reviews index orders.
pub(crate) fn sort_newest_first(reviews: &mut [Review]) {
    reviews.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.id.cmp(&a.id))
    });
}
