//! Queries: semantic search with filters, similar documents, one document, index statistics,
//! and the `Document` entity resolver.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use polygate_kit::ErrorCode;
use polygate_kit::api_error;
use polygate_kit::error::internal_error;

use super::document::{DocumentNode, load_document};
use super::hit::SearchHit;
use super::{bad_input, failed, service};
use crate::domain::{DocumentId, Filter, SearchText, Source, Tag, first};

pub struct Query;

/// Which documents a search may return; every condition given must hold.
#[derive(InputObject, Default)]
pub struct SearchFilter {
    /// The document carries every one of these tags.
    pub tags: Option<Vec<String>>,
    /// The document comes from this source, e.g. `catalog`.
    pub source: Option<String>,
    /// The document was created after this instant (RFC 3339, e.g. `2026-01-31T00:00:00Z`).
    pub after: Option<String>,
}

impl SearchFilter {
    fn parse(self) -> async_graphql::Result<Filter> {
        let tags = self.tags.unwrap_or_default();
        if tags.len() > 16 {
            return Err(api_error(
                ErrorCode::BadUserInput,
                "filter.tags: at most 16 tags",
            ));
        }
        let tags = tags
            .iter()
            .map(|t| Tag::parse(t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad_input)?;
        let source = self
            .source
            .map(|s| Source::parse(&s))
            .transpose()
            .map_err(bad_input)?;
        let created_after = self
            .after
            .map(|a| {
                chrono::DateTime::parse_from_rfc3339(&a)
                    .map(|t| t.timestamp_millis())
                    .map_err(|_| {
                        api_error(
                            ErrorCode::BadUserInput,
                            "filter.after: expected an RFC 3339 time such as 2026-01-31T00:00:00Z",
                        )
                    })
            })
            .transpose()?;
        Ok(Filter {
            tags,
            source,
            created_after,
        })
    }
}

/// How big the index is and how far behind.
#[derive(SimpleObject)]
#[graphql(name = "SearchStats")]
pub struct SearchStatsNode {
    /// The collection the alias names.
    pub collection: String,
    pub documents: u64,
    pub chunks: u64,
    /// Documents whose current version is not indexed yet.
    pub pending: u64,
    /// The embedding model, or `none` when it is not installed.
    pub model: String,
}

#[Object]
impl Query {
    /// The `first` (1 to 50) documents closest in meaning to `text` (1 to 1024 bytes), best
    /// first; each hit carries its best-matching passage.
    async fn search(
        &self,
        ctx: &Context<'_>,
        text: String,
        filter: Option<SearchFilter>,
        #[graphql(default = 10)] first: i32,
    ) -> async_graphql::Result<Vec<SearchHit>> {
        let text = SearchText::parse(&text).map_err(bad_input)?;
        let first = first_hits(first)?;
        let filter = filter.unwrap_or_default().parse()?;
        let hits = service(ctx)
            .search(&text, &filter, first)
            .await
            .map_err(failed)?;
        Ok(hits.into_iter().map(SearchHit).collect())
    }

    /// The `first` (1 to 50) documents closest in meaning to document `id`, itself excluded.
    async fn similar_documents(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(default = 5)] first: i32,
    ) -> async_graphql::Result<Vec<SearchHit>> {
        let id = DocumentId::parse(&id).map_err(bad_input)?;
        let first = first_hits(first)?;
        let hits = service(ctx).similar(&id, first).await.map_err(failed)?;
        Ok(hits.into_iter().map(SearchHit).collect())
    }

    /// One document by id.
    async fn document(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<DocumentNode>> {
        let id = DocumentId::parse(&id).map_err(bad_input)?;
        load_document(ctx, id).await
    }

    /// Sizes of the index and how many documents wait for it.
    async fn search_stats(&self, ctx: &Context<'_>) -> async_graphql::Result<SearchStatsNode> {
        let service = service(ctx);
        let stats = service
            .store
            .stats()
            .await
            .map_err(|e| internal_error(ErrorCode::StoreUnavailable, &e))?;
        Ok(SearchStatsNode {
            collection: stats.collection,
            documents: stats.documents,
            chunks: stats.chunks,
            pending: stats.pending,
            model: service.embedder.model().to_owned(),
        })
    }

    #[graphql(entity)]
    async fn find_document_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<DocumentNode>> {
        let Ok(id) = DocumentId::parse(&id) else {
            return Ok(None);
        };
        load_document(ctx, id).await
    }
}

fn first_hits(raw: i32) -> async_graphql::Result<usize> {
    first(raw).map_err(bad_input)
}
