//! The search feed catalog provides (`polygate_kit::feeds::ProductContentFeed`): the outbox,
//! read by position, turned into the kit's change type.

use std::sync::Arc;

use async_trait::async_trait;
use polygate_kit::feeds::{ProductContentChange, ProductContentFeed};

use crate::store::CatalogStore;

/// Largest batch one `changes_after` call returns, whatever the consumer asks.
pub const MAX_BATCH: usize = 1_000;

pub struct OutboxFeed(pub Arc<dyn CatalogStore>);

#[async_trait]
impl ProductContentFeed for OutboxFeed {
    async fn changes_after(
        &self,
        after: u64,
        limit: usize,
    ) -> anyhow::Result<Vec<ProductContentChange>> {
        let changes = self
            .0
            .content_changes_after(after, limit.clamp(1, MAX_BATCH))
            .await?;
        Ok(changes
            .into_iter()
            .map(|change| match change.content {
                Some(content) => ProductContentChange {
                    position: change.position,
                    sku: change.sku.to_string(),
                    title: content.name.clone(),
                    text: Some(content.searchable_text()),
                    tags: content.tags(),
                },
                None => ProductContentChange {
                    position: change.position,
                    sku: change.sku.to_string(),
                    title: String::new(),
                    text: None,
                    tags: Vec::new(),
                },
            })
            .collect())
    }
}
