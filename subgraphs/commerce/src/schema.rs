//! The commerce GraphQL schema (Apollo Federation v2): building it and the helpers its resolvers
//! share. Users live in `schema/user.rs`, queries and mutations in their own files.
//!
//! Non-obvious: one `DataLoader` (without a cache) lives in the schema data rather than per
//! request, so every user load in a request — `_entities` representations included — is batched
//! into one `users_by_ids` call, and nothing stale survives between requests.

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, EmptySubscription, ID, Schema};
use polygate_kit::auth::SessionIssuer;
use polygate_kit::error::internal_error;
use polygate_kit::{ErrorCode, Viewer, api_error};

use crate::ids::UserId;
use crate::password::PasswordHasher;
use crate::store::{CommerceStore, StoreError};

mod mutation;
mod query;
mod user;

pub use mutation::{AuthPayload, Mutation, RegisterInput};
pub use query::{Query, UserPage};
pub use user::{UserLoader, UserNode};

pub type CommerceSchema = Schema<Query, Mutation, EmptySubscription>;

/// The session issuer `login` / `logout` use; absent when commerce runs as its own binary.
#[derive(Clone)]
pub(crate) struct Issuer(pub Option<Arc<dyn SessionIssuer>>);

pub fn build(
    store: Arc<dyn CommerceStore>,
    issuer: Option<Arc<dyn SessionIssuer>>,
    hasher: PasswordHasher,
) -> CommerceSchema {
    let users = DataLoader::new(UserLoader::new(store.clone()), tokio::spawn);
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .data(store)
        .data(Issuer(issuer))
        .data(hasher)
        .data(users)
        .finish()
}

/// The federation SDL; needs no store, since printing resolves nothing.
pub fn sdl() -> String {
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .finish()
        .sdl_with_options(
            async_graphql::SDLExportOptions::new()
                .federation()
                .compose_directive(),
        )
}

/// The user id in an `ID` argument, or `BAD_USER_INPUT` naming `field`.
pub(crate) fn parse_user_id(id: &ID, field: &str) -> async_graphql::Result<UserId> {
    id.parse::<UserId>().map_err(|_| {
        api_error(
            ErrorCode::BadUserInput,
            format!("{field}: not a valid user id"),
        )
    })
}

/// A store failure as the client sees it: `STORE_UNAVAILABLE`, details only in the log.
pub(crate) fn store_failed(err: StoreError) -> async_graphql::Error {
    internal_error(ErrorCode::StoreUnavailable, &err)
}

/// Whether the viewer may see private data of `user`: themself, or staff.
pub(crate) fn may_see(viewer: Option<&Viewer>, user: UserId) -> bool {
    viewer.is_some_and(|v| v.staff || v.user_id == user.to_string())
}

pub(crate) fn store<'a>(ctx: &Context<'a>) -> &'a Arc<dyn CommerceStore> {
    ctx.data_unchecked::<Arc<dyn CommerceStore>>()
}
