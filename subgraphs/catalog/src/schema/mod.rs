//! The catalog GraphQL schema (Apollo Federation v2): `Product` extended by `sku` with content,
//! `catalogSearch`, reviews, and the staff-only content mutations.
//!
//! Non-obvious: catalog takes `Product.description` over from commerce with
//! `@override(from: "commerce")` (DESIGN.md gives descriptions to catalog), so the gateway asks
//! catalog for it while commerce's field stays in its schema until commerce drops it. Every
//! product this subgraph is asked for resolves, content or not: a SKU without content reads as
//! empty (`description: ""`, no variants), because commerce owns which products exist.

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, Schema};
use polygate_kit::batch::Batcher;
use polygate_kit::error::internal_error;
use polygate_kit::{ErrorCode, api_error};

use crate::clock::Clock;
use crate::domain::InvalidInput;
use crate::store::{CatalogStore, StoreError};

mod inputs;
mod mutation;
mod product;
mod query;

pub use mutation::Mutation;
pub use product::{ProductLoader, ProductNode};
pub use query::Query;

pub type CatalogSchema = Schema<Query, Mutation, EmptySubscription>;

/// The clock resolvers read `now` from.
#[derive(Clone)]
pub(crate) struct SchemaClock(pub Arc<dyn Clock>);

pub fn build(store: Arc<dyn CatalogStore>, clock: Arc<dyn Clock>) -> CatalogSchema {
    let products = Batcher::new(ProductLoader::new(store.clone()));
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .data(store)
        .data(SchemaClock(clock))
        .data(products)
        .finish()
}

/// The federation SDL; needs no store, since printing resolves nothing.
pub fn sdl() -> String {
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .finish()
        .sdl_with_options(polygate_kit::sdl_options())
}

/// Largest `first` any paged field accepts.
pub const MAX_PAGE: i32 = 100;

/// `first` (`default` when omitted) as a row count; `BAD_USER_INPUT` outside 1 to [`MAX_PAGE`].
pub(crate) fn page_size(first: Option<i32>, default: i32) -> async_graphql::Result<u32> {
    let first = first.unwrap_or(default);
    if (1..=MAX_PAGE).contains(&first) {
        Ok(first as u32)
    } else {
        Err(api_error(
            ErrorCode::BadUserInput,
            format!("first: must be between 1 and {MAX_PAGE}"),
        ))
    }
}

/// A value that failed the domain rules: `BAD_USER_INPUT`, the message naming the field.
pub(crate) fn bad_input(err: InvalidInput) -> async_graphql::Error {
    api_error(ErrorCode::BadUserInput, err.to_string())
}

/// A store failure as the client sees it: rule violations by their code, outages as
/// `STORE_UNAVAILABLE` with the details only in the log.
pub(crate) fn store_failed(err: StoreError) -> async_graphql::Error {
    match err {
        StoreError::Conflict(message) => api_error(ErrorCode::Conflict, message),
        StoreError::NotFound(message) => api_error(ErrorCode::NotFound, message),
        StoreError::Unavailable(_) => internal_error(ErrorCode::StoreUnavailable, &err),
        StoreError::Other(_) => internal_error(ErrorCode::StoreUnavailable, &err),
    }
}

pub(crate) fn store<'a>(ctx: &Context<'a>) -> &'a Arc<dyn CatalogStore> {
    ctx.data_unchecked::<Arc<dyn CatalogStore>>()
}

pub(crate) fn now(ctx: &Context<'_>) -> chrono::DateTime<chrono::Utc> {
    ctx.data_unchecked::<SchemaClock>().0.now()
}

/// The signed-in staff member: `UNAUTHENTICATED` without a session, `FORBIDDEN` for anyone
/// else. `action` completes "only staff may …".
pub(crate) fn staff_only(ctx: &Context<'_>, action: &str) -> async_graphql::Result<()> {
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
