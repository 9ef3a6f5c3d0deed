//! The `Document` entity, the batch loader behind every document a response shows, and
//! `Product`, referenced by SKU from documents whose source is the catalog.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, Object, SimpleObject};
use polygate_kit::ErrorCode;
use polygate_kit::batch::Batcher;
use polygate_kit::error::internal_error;

use super::rfc3339;
use crate::domain::{Document, DocumentId};
use crate::store::{SearchStore, StoreError};

/// Commerce's product, referenced here only by its key; the gateway resolves the rest.
#[derive(SimpleObject)]
#[graphql(name = "Product", unresolvable = "sku")]
pub struct ProductRef {
    pub sku: String,
}

pub struct DocumentNode(pub Document);

/// A text document: the source of truth the vector index is built from. An entity: other
/// subgraphs may reference it by `id`.
#[Object(name = "Document")]
impl DocumentNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn title(&self) -> &str {
        self.0.title.as_str()
    }

    async fn body(&self) -> &str {
        self.0.body.as_str()
    }

    /// Where it comes from: `catalog` (a product's text), `guides`, `debian`, ….
    async fn source(&self) -> &str {
        self.0.source.as_str()
    }

    async fn tags(&self) -> Vec<String> {
        self.0.tags.as_strings()
    }

    /// Language code, e.g. `en`.
    async fn language(&self) -> &str {
        self.0.language.as_str()
    }

    /// 1 when created, +1 on every change.
    async fn version(&self) -> u64 {
        self.0.version
    }

    /// RFC 3339, UTC.
    async fn created_at(&self) -> String {
        rfc3339(self.0.created_at)
    }

    /// RFC 3339, UTC.
    async fn updated_at(&self) -> String {
        rfc3339(self.0.updated_at)
    }

    /// Whether search sees this version yet (false while it waits for the embedder).
    async fn indexed(&self) -> bool {
        self.0.is_indexed()
    }

    /// The product this document describes, when its source is the catalog.
    async fn product(&self) -> Option<ProductRef> {
        self.0.product_sku().map(|sku| ProductRef {
            sku: sku.to_owned(),
        })
    }
}

/// Loads documents by id, one `documents_by_ids` call per batch.
pub struct DocumentLoader {
    store: Arc<dyn SearchStore>,
}

impl DocumentLoader {
    pub fn new(store: Arc<dyn SearchStore>) -> Self {
        Self { store }
    }
}

impl Loader<DocumentId> for DocumentLoader {
    type Value = Document;
    type Error = StoreError;

    async fn load(&self, keys: &[DocumentId]) -> Result<HashMap<DocumentId, Document>, StoreError> {
        let documents = self.store.documents_by_ids(keys).await?;
        Ok(documents.into_iter().map(|d| (d.id.clone(), d)).collect())
    }
}

/// The document `id` through the request's batcher.
pub(crate) async fn load_document(
    ctx: &Context<'_>,
    id: DocumentId,
) -> async_graphql::Result<Option<DocumentNode>> {
    let batcher = ctx.data_unchecked::<Batcher<DocumentId, DocumentLoader>>();
    batcher
        .load_one(id)
        .await
        .map(|d| d.map(DocumentNode))
        .map_err(|e| internal_error(ErrorCode::StoreUnavailable, &e))
}
