//! Staff-only writes: put a document (stored, then indexed), delete one, rebuild the collection
//! under its alias.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::document::DocumentNode;
use super::{bad_input, failed, service, staff_only};
use crate::domain::{Body, DocumentId, Language, NewDocument, Source, Tags, Title};
use crate::reindex::{ReindexOptions, reindex};

pub struct Mutation;

/// A document to create or replace (by `id`).
#[derive(InputObject)]
pub struct DocumentInput {
    /// 1 to 128 of A-Z a-z 0-9 . _ : - ; a document describing product SKU uses `catalog:SKU`.
    pub id: ID,
    /// 1 to 300 characters.
    pub title: String,
    /// Up to 200 KB of text.
    pub body: String,
    /// 1 to 32 of a-z 0-9 _ -, e.g. `guides`.
    pub source: String,
    /// Up to 32 tags without spaces.
    #[graphql(default)]
    pub tags: Vec<String>,
    /// Language code, default `en`.
    pub language: Option<String>,
}

impl DocumentInput {
    fn parse(self) -> async_graphql::Result<NewDocument> {
        Ok(NewDocument {
            id: DocumentId::parse(&self.id).map_err(bad_input)?,
            title: Title::parse(&self.title).map_err(bad_input)?,
            body: Body::parse(&self.body).map_err(bad_input)?,
            source: Source::parse(&self.source).map_err(bad_input)?,
            tags: Tags::parse(&self.tags).map_err(bad_input)?,
            language: match self.language {
                Some(l) => Language::parse(&l).map_err(bad_input)?,
                None => Language::default(),
            },
        })
    }
}

/// What a rebuild did.
#[derive(SimpleObject)]
#[graphql(name = "ReindexReport")]
pub struct ReindexReportNode {
    /// The collection the alias names now.
    pub collection: String,
    /// The one it named before (dropped).
    pub previous: Option<String>,
    pub documents: u64,
    /// Documents written or deleted during the rebuild and applied after the swap.
    pub caught_up: u64,
}

#[Object]
impl Mutation {
    /// Creates or replaces a document and indexes it; staff only. Sending the same document
    /// again changes nothing (same version). When the embedding model is missing the document is
    /// stored with `indexed: false` and indexed once the model is installed.
    async fn upsert_document(
        &self,
        ctx: &Context<'_>,
        input: DocumentInput,
    ) -> async_graphql::Result<DocumentNode> {
        staff_only(ctx, "write documents")?;
        let doc = input.parse()?;
        let ingested = service(ctx).ingest(&doc).await.map_err(failed)?;
        if let Some(reason) = &ingested.pending_because {
            tracing::warn!(document = %doc.id, %reason, "stored, not indexed yet");
        }
        Ok(DocumentNode(ingested.document))
    }

    /// Deletes a document and every chunk of it; false when there was none. Staff only.
    async fn delete_document(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        staff_only(ctx, "delete documents")?;
        let id = DocumentId::parse(&id).map_err(bad_input)?;
        service(ctx).delete(&id).await.map_err(failed)
    }

    /// Rebuilds the vector collection from the documents into a new collection, swaps the alias
    /// to it (searches never stop) and drops the old one. Staff only.
    async fn reindex(&self, ctx: &Context<'_>) -> async_graphql::Result<ReindexReportNode> {
        staff_only(ctx, "rebuild the index")?;
        let service = service(ctx);
        let spec = ctx.data_unchecked::<crate::store::CollectionSpec>();
        let report = reindex(service, &ReindexOptions::new(spec.clone()))
            .await
            .map_err(failed)?;
        Ok(ReindexReportNode {
            collection: report.collection,
            previous: report.previous,
            documents: report.documents,
            caught_up: report.caught_up,
        })
    }
}
