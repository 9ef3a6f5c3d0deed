//! Change feeds one subgraph offers another through [`crate::Capabilities`], so a store that
//! derives its data from another's (search indexes catalog's product text) follows every change
//! instead of rebuilding nightly.
//!
//! Non-obvious: a feed is an outbox read by position, not a push. The provider appends a change
//! in the same write as the content it describes; the consumer keeps its own cursor and asks for
//! what came after it, so a consumer that was down catches up, and a change is never lost
//! between a write and a notification.

use async_trait::async_trait;

/// One product whose searchable text changed (or that went away).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductContentChange {
    /// Increases with every change the feed records; the consumer's cursor.
    pub position: u64,
    /// The product's business key (commerce's and catalog's `Product @key(fields: "sku")`).
    pub sku: String,
    /// The product's name; empty when `text` is `None`.
    pub title: String,
    /// Everything searchable (description, attributes as words); `None` when the product's
    /// content was deleted.
    pub text: Option<String>,
    /// Free-form tags (category path, brand) for search filters.
    pub tags: Vec<String>,
}

/// Product content changes, oldest first (provided by the catalog subgraph).
#[async_trait]
pub trait ProductContentFeed: Send + Sync {
    /// Up to `limit` changes with `position > after`, in position order. Only the latest change
    /// of each product needs to be kept: a consumer that skips older ones loses nothing.
    async fn changes_after(
        &self,
        after: u64,
        limit: usize,
    ) -> anyhow::Result<Vec<ProductContentChange>>;
}
