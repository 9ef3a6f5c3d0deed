//! Keeps catalog products searchable: follows the catalog's [`ProductContentFeed`] (an outbox
//! read by position) with a cursor of our own, and turns each change into a document
//! `catalog:<SKU>` (source `catalog`) or its deletion.
//!
//! Non-obvious: the cursor is stored after the change is applied, so a crash in between applies
//! the change again — harmless, because an unchanged document is not rewritten (content hash) and
//! a second delete deletes nothing. A product whose embedding fails (no model) is still stored
//! and the cursor moves on; the pending indexer embeds it later. The feed is looked up on every
//! round, because catalog may open after search in the same process.

use std::time::Duration;

use polygate_kit::Capabilities;
use polygate_kit::feeds::{ProductContentChange, ProductContentFeed};

use crate::domain::{Body, DocumentId, Language, NewDocument, Source, Tags, Title};
use crate::service::{SearchService, ServiceError};

/// This follower's cursor name in the store.
pub const CURSOR: &str = "catalog-product-content";
/// Changes read per round.
pub const BATCH: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error("the product content feed failed: {0:#}")]
    Feed(anyhow::Error),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    pub applied: usize,
    /// Changes that could not become a document (an invalid SKU), logged and skipped.
    pub skipped: usize,
    pub position: u64,
}

/// Reads the changes after our cursor (at most [`BATCH`]) and applies them.
pub async fn follow_once(
    service: &SearchService,
    feed: &dyn ProductContentFeed,
) -> Result<Round, FollowError> {
    let after = service
        .store
        .cursor(CURSOR)
        .await
        .map_err(ServiceError::from)?;
    let changes = feed
        .changes_after(after, BATCH)
        .await
        .map_err(FollowError::Feed)?;
    let mut round = Round {
        position: after,
        ..Round::default()
    };
    for change in changes {
        match action_of(&change) {
            Ok(Action::Put(doc)) => {
                service.ingest(&doc).await?;
                round.applied += 1;
            }
            Ok(Action::Delete(id)) => {
                service.delete(&id).await?;
                round.applied += 1;
            }
            Err(reason) => {
                tracing::warn!(sku = change.sku, position = change.position, %reason, "product change skipped");
                round.skipped += 1;
            }
        }
        service
            .store
            .set_cursor(CURSOR, change.position)
            .await
            .map_err(ServiceError::from)?;
        round.position = change.position;
    }
    Ok(round)
}

enum Action {
    Put(NewDocument),
    Delete(DocumentId),
}

/// What a change does to the documents, or why it cannot be applied.
fn action_of(change: &ProductContentChange) -> Result<Action, String> {
    let id = DocumentId::parse(&format!("catalog:{}", change.sku)).map_err(|e| e.to_string())?;
    let Some(text) = &change.text else {
        return Ok(Action::Delete(id));
    };
    let title = if change.title.trim().is_empty() {
        change.sku.as_str()
    } else {
        change.title.as_str()
    };
    let tags: Vec<String> = change
        .tags
        .iter()
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join("-"))
        .filter(|t| !t.is_empty())
        .take(Tags::MAX)
        .collect();
    Ok(Action::Put(NewDocument {
        id,
        title: Title::parse(title).map_err(|e| e.to_string())?,
        body: Body::parse(text).map_err(|e| e.to_string())?,
        source: Source::catalog(),
        tags: Tags::parse(&tags).map_err(|e| e.to_string())?,
        language: Language::default(),
    }))
}

/// The background loop: a round every `every` while the feed is there; says once when it is not.
pub async fn run(service: SearchService, capabilities: Capabilities, every: Duration) {
    let mut said_absent = false;
    let mut last_error: Option<String> = None;
    loop {
        match capabilities.get::<dyn ProductContentFeed>() {
            None => {
                if !said_absent {
                    tracing::info!(
                        "no product content feed in this process (catalog is not here); \
                         catalog products are not indexed by this search subgraph"
                    );
                    said_absent = true;
                }
            }
            Some(feed) => match follow_once(&service, feed.as_ref()).await {
                Ok(round) => {
                    last_error = None;
                    crate::metrics::FEED_POSITION.set(round.position as i64);
                    if round.applied == BATCH {
                        continue; // more waiting: no pause
                    }
                }
                Err(e) => {
                    let text = e.to_string();
                    if last_error.as_ref() != Some(&text) {
                        tracing::warn!(error = %text, "following the product content feed failed; retrying");
                        last_error = Some(text);
                    }
                }
            },
        }
        tokio::time::sleep(every).await;
    }
}

/// The follower as a background task; see [`run`].
pub fn task(
    service: SearchService,
    capabilities: Capabilities,
    every: Duration,
) -> polygate_kit::BackgroundTask {
    polygate_kit::BackgroundTask::new("search/catalog-follower", run(service, capabilities, every))
}
