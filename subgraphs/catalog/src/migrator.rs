//! The background migrator: rewrites product documents stored in an older shape in the current
//! one, a batch at a time, and reports how many documents each version holds
//! (`polygate_catalog_documents{schema_version}`).
//!
//! Non-obvious: it is never needed for correctness — readers upgrade old shapes on read — only
//! so that queries on new fields (attribute filters on MongoDB) see every document, and so old
//! readers can eventually be retired. Small batches with a pause keep it off the hot path.

use std::sync::Arc;
use std::time::Duration;

use crate::store::CatalogStore;

/// Documents rewritten per store call.
pub const BATCH: usize = 100;

/// One pass: migrates until nothing old is left (at most `max_batches` batches), then samples
/// the per-version counts. Returns how many documents were rewritten.
pub async fn migrate_pass(store: &dyn CatalogStore, max_batches: usize) -> usize {
    let mut migrated = 0;
    for _ in 0..max_batches {
        match store.migrate_old_documents(BATCH).await {
            Ok(0) => break,
            Ok(n) => migrated += n,
            Err(e) => {
                tracing::warn!(error = %e, "catalog migrator: a batch failed; retrying next pass");
                break;
            }
        }
    }
    if let Ok(versions) = store.documents_by_version().await {
        // A version with no documents left reports 0, not its last count.
        for version in 1..=crate::store::document::CURRENT_VERSION {
            crate::metrics::DOCUMENTS_BY_VERSION
                .with_label_values(&[&version.to_string()])
                .set(0);
        }
        for (version, count) in versions {
            crate::metrics::DOCUMENTS_BY_VERSION
                .with_label_values(&[&version.to_string()])
                .set(count as i64);
        }
    }
    if migrated > 0 {
        tracing::info!(
            migrated,
            "catalog migrator: rewrote documents in the current shape"
        );
    }
    migrated
}

/// Runs [`migrate_pass`] every `every`, forever (a background task).
pub async fn run(store: Arc<dyn CatalogStore>, every: Duration) {
    loop {
        migrate_pass(store.as_ref(), 1_000).await;
        tokio::time::sleep(every).await;
    }
}
