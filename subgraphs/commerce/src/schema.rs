//! The commerce GraphQL schema (Apollo Federation v2): building it and the helpers its resolvers
//! share. Users, products, orders and money each have their own file; the root `Query` and
//! `Mutation` list the fields and hand the work to them.
//!
//! Non-obvious: the batchers ([`Batcher`], without a cache) live in the schema data rather than per
//! request, so every load of one type in a request — `_entities` representations included — is
//! batched into one store call, and nothing stale survives between requests. Product and order
//! loads are keyed by id *and* reader (the viewer), because the store routes a reader to where
//! their own writes are visible; one request has one viewer, so it still costs one call.

use std::str::FromStr;
use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, ID, Schema};
use polygate_kit::auth::SessionIssuer;
use polygate_kit::batch::Batcher;
use polygate_kit::error::internal_error;
use polygate_kit::{ErrorCode, Viewer, api_error};

use crate::domain::InvalidInput;
use crate::ids::UserId;
use crate::password::PasswordHasher;
use crate::payments::PaymentProvider;
use crate::store::{CommerceStore, StoreError};

mod address;
mod lifecycle;
mod money;
mod mutation;
mod order;
mod payment;
mod product;
mod query;
mod user;

pub use address::{AddressInput, AddressNode, ShippingAddress};
pub use lifecycle::PayOrderInput;
pub use money::{Long, MoneyNode};
pub use mutation::{AuthPayload, Mutation, RegisterInput};
pub use order::{
    OrderItemInput, OrderLineNode, OrderLoader, OrderNode, OrderPage, PlaceOrderInput,
};
pub use payment::{PaymentLoader, PaymentNode, PaymentStatusNode};
pub use product::{
    ProductBySkuLoader, ProductLoader, ProductNode, ProductPage, RestockInput, SetPriceInput,
};
pub use query::{Query, UserPage};
pub use user::{UserByEmailLoader, UserLoader, UserNode};

pub type CommerceSchema = Schema<Query, Mutation, EmptySubscription>;

/// The session issuer `login` / `logout` use; absent when commerce runs as its own binary.
#[derive(Clone)]
pub(crate) struct Issuer(pub Option<Arc<dyn SessionIssuer>>);

pub fn build(
    store: Arc<dyn CommerceStore>,
    issuer: Option<Arc<dyn SessionIssuer>>,
    hasher: PasswordHasher,
    provider: Arc<dyn PaymentProvider>,
) -> CommerceSchema {
    let users = Batcher::new(UserLoader::new(store.clone()));
    let users_by_email = Batcher::new(UserByEmailLoader::new(store.clone()));
    let products = Batcher::new(ProductLoader::new(store.clone()));
    let products_by_sku = Batcher::new(ProductBySkuLoader::new(store.clone()));
    let orders = Batcher::new(OrderLoader::new(store.clone()));
    let payments = Batcher::new(PaymentLoader::new(store.clone()));
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .data(store)
        .data(Issuer(issuer))
        .data(lifecycle::Provider(provider))
        .data(hasher)
        .data(users)
        .data(users_by_email)
        .data(products)
        .data(products_by_sku)
        .data(orders)
        .data(payments)
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
    parse_id(id, field, "user")
}

/// The id of a `what` (user, product, order) in an `ID` argument, or `BAD_USER_INPUT` naming
/// `field`.
pub(crate) fn parse_id<T: FromStr>(id: &ID, field: &str, what: &str) -> async_graphql::Result<T> {
    id.parse::<T>().map_err(|_| {
        api_error(
            ErrorCode::BadUserInput,
            format!("{field}: not a valid {what} id"),
        )
    })
}

/// Largest `first` any paged field accepts.
pub const MAX_PAGE: i32 = 100;

/// `first` of a paged field (`default` when omitted) as a row count; `BAD_USER_INPUT` outside
/// 1 to [`MAX_PAGE`].
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

/// The signed-in viewer and their user id; `UNAUTHENTICATED` without a session.
pub(crate) fn signed_in<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<(&'a Viewer, UserId)> {
    let viewer = Viewer::require(ctx)?;
    let id = viewer
        .user_id
        .parse()
        .map_err(|_| api_error(ErrorCode::Unauthenticated, "the session's user is unknown"))?;
    Ok((viewer, id))
}

/// The signed-in staff member's user id: `UNAUTHENTICATED` without a session, `FORBIDDEN` for
/// anyone else. `action` completes "only staff may …".
pub(crate) fn staff_only(ctx: &Context<'_>, action: &str) -> async_graphql::Result<UserId> {
    let (viewer, id) = signed_in(ctx)?;
    if viewer.staff {
        Ok(id)
    } else {
        Err(api_error(
            ErrorCode::Forbidden,
            format!("only staff may {action}"),
        ))
    }
}

/// The viewer's user id as the `reader` of store reads; `None` when anonymous.
pub(crate) fn reader(ctx: &Context<'_>) -> Option<UserId> {
    ctx.data_opt::<Viewer>()
        .and_then(|v| v.user_id.parse().ok())
}

/// A batch-loader key: what to load and the reader it is loaded for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReadKey<I> {
    pub id: I,
    pub reader: Option<UserId>,
}

/// The ids of `keys` grouped by reader, one group per store call.
pub(crate) fn by_reader<I: Clone>(keys: &[ReadKey<I>]) -> Vec<(Option<UserId>, Vec<I>)> {
    let mut groups: Vec<(Option<UserId>, Vec<I>)> = Vec::new();
    for key in keys {
        match groups.iter_mut().find(|(reader, _)| *reader == key.reader) {
            Some((_, ids)) => ids.push(key.id.clone()),
            None => groups.push((key.reader, vec![key.id.clone()])),
        }
    }
    groups
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
