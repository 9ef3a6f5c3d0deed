//! The search GraphQL schema (Apollo Federation v2): `search`, `similarDocuments`, `document`
//! and `searchStats`; the staff-only `upsertDocument`, `deleteDocument` and `reindex`; the
//! `Document` entity; and `Product` referenced by SKU from catalog documents.
//!
//! Non-obvious: every document a response shows — the hits' documents, `_entities`
//! representations — is loaded through one [`Batcher`] kept in the schema data, so a page of ten
//! hits costs one `documents_by_ids` call, not ten.

use async_graphql::{EmptySubscription, Schema};
use polygate_kit::batch::Batcher;
use polygate_kit::error::internal_error;
use polygate_kit::{ErrorCode, api_error};

use crate::domain::InvalidInput;
use crate::embed::EmbedError;
use crate::service::{SearchService, ServiceError};
use crate::store::CollectionSpec;

mod document;
mod hit;
mod mutation;
mod query;

pub use document::{DocumentLoader, DocumentNode, ProductRef};
pub use hit::SearchHit;
pub use mutation::{DocumentInput, Mutation, ReindexReportNode};
pub use query::{Query, SearchFilter, SearchStatsNode};

pub type SearchSchema = Schema<Query, Mutation, EmptySubscription>;

/// The executable schema over `service`; `spec` is what `reindex` builds new collections with.
pub fn build(service: SearchService, spec: CollectionSpec) -> SearchSchema {
    let documents = Batcher::new(DocumentLoader::new(service.store.clone()));
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .data(service)
        .data(spec)
        .data(documents)
        .finish()
}

/// The federation SDL; needs no store, since printing resolves nothing.
pub fn sdl() -> String {
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .finish()
        .sdl_with_options(polygate_kit::sdl_options())
}

pub(crate) fn service<'a>(ctx: &async_graphql::Context<'a>) -> &'a SearchService {
    ctx.data_unchecked::<SearchService>()
}

/// A value that failed the domain rules: `BAD_USER_INPUT`, the message naming the field.
pub(crate) fn bad_input(err: InvalidInput) -> async_graphql::Error {
    api_error(ErrorCode::BadUserInput, err.to_string())
}

/// A service failure as the client sees it.
pub(crate) fn failed(err: ServiceError) -> async_graphql::Error {
    match err {
        // The install instruction is meant for whoever reads the error.
        ServiceError::Embed(EmbedError::ModelMissing(message)) => {
            api_error(ErrorCode::StoreUnavailable, message)
        }
        ServiceError::Embed(EmbedError::Overloaded) => api_error(
            ErrorCode::StoreUnavailable,
            "the embedder is overloaded; retry shortly",
        ),
        ServiceError::Embed(e @ EmbedError::Failed(_)) => internal_error(ErrorCode::Internal, &e),
        ServiceError::Store(e) => internal_error(ErrorCode::StoreUnavailable, &e),
        ServiceError::NotFound(id) => api_error(ErrorCode::NotFound, format!("no document {id}")),
    }
}

/// The signed-in viewer, who must be staff: `UNAUTHENTICATED` / `FORBIDDEN` otherwise.
pub(crate) fn staff_only(
    ctx: &async_graphql::Context<'_>,
    action: &str,
) -> async_graphql::Result<()> {
    let viewer = polygate_kit::Viewer::require(ctx)?;
    if viewer.staff {
        Ok(())
    } else {
        Err(api_error(
            ErrorCode::Forbidden,
            format!("only staff may {action}"),
        ))
    }
}

/// Milliseconds since the epoch as RFC 3339 (UTC).
pub(crate) fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
