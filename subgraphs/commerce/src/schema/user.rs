//! The `User` entity: its fields, who may see which, and the batch loader behind it.
//!
//! Non-obvious: `email` and `orders` are nullable in the SDL so that hiding them from other
//! viewers (null plus a `FORBIDDEN` error) nulls only that field, not the whole user. The user
//! returned by `register` and `login` counts as seen by its owner: the caller just proved it,
//! though no session is attached to that request yet.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, Object, Result};
use chrono::SecondsFormat;
use polygate_kit::batch::Batcher;
use polygate_kit::{ErrorCode, Viewer, api_error};

use super::address::{self, AddressNode};
use super::order::{self, OrderPage};
use super::{may_see, store_failed};
use crate::domain::{Email, User};
use crate::ids::UserId;
use crate::store::{CommerceStore, StoreError};

/// A user as GraphQL shows it.
pub struct UserNode {
    user: User,
    seen_by_owner: bool,
}

impl UserNode {
    /// A user seen by whoever the request's viewer is.
    pub fn new(user: User) -> Self {
        Self {
            user,
            seen_by_owner: false,
        }
    }

    /// A user returned to the caller who just registered or signed in as them.
    pub fn for_owner(user: User) -> Self {
        Self {
            user,
            seen_by_owner: true,
        }
    }

    pub fn user(&self) -> &User {
        &self.user
    }
}

#[Object(name = "User")]
impl UserNode {
    async fn id(&self) -> ID {
        ID(self.user.id.to_string())
    }

    /// Visible to the user themself and to staff; null with `FORBIDDEN` for anyone else.
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        if self.seen_by_owner || may_see(ctx.data_opt::<Viewer>(), self.user.id) {
            Ok(Some(self.user.email.as_str()))
        } else {
            Err(api_error(
                ErrorCode::Forbidden,
                "only the user and staff may see the email",
            ))
        }
    }

    async fn name(&self) -> &str {
        self.user.name.as_str()
    }

    async fn staff(&self) -> bool {
        self.user.staff
    }

    /// When the user registered, RFC 3339 in UTC.
    async fn created_at(&self) -> String {
        self.user
            .created_at
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// The user's address book, newest first (the newest is where orders ship by default).
    /// Visible to the user themself and to staff; null with `FORBIDDEN` for anyone else.
    async fn addresses(&self, ctx: &Context<'_>) -> Result<Option<Vec<AddressNode>>> {
        if !(self.seen_by_owner || may_see(ctx.data_opt::<Viewer>(), self.user.id)) {
            return Err(api_error(
                ErrorCode::Forbidden,
                "only the user and staff may see the addresses",
            ));
        }
        address::book(ctx, self.user.id).await.map(Some)
    }

    /// The user's orders, newest first, `first` (1 to 100) at a time after the `after` cursor.
    /// Visible to the user themself and to staff; null with `FORBIDDEN` for anyone else
    /// (`UNAUTHENTICATED` without a session).
    async fn orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<OrderPage>> {
        order::history(ctx, self.user.id, self.seen_by_owner, first, after)
            .await
            .map(Some)
    }
}

/// Loads users by id in batches of one `users_by_ids` call.
pub struct UserLoader {
    store: Arc<dyn CommerceStore>,
}

impl UserLoader {
    pub fn new(store: Arc<dyn CommerceStore>) -> Self {
        Self { store }
    }
}

impl Loader<UserId> for UserLoader {
    type Value = User;
    type Error = StoreError;

    async fn load(&self, keys: &[UserId]) -> Result<HashMap<UserId, User>, StoreError> {
        let users = self.store.users_by_ids(keys).await?;
        Ok(users.into_iter().map(|u| (u.id, u)).collect())
    }
}

/// Loads users by email (federation's second `User` key) in batches of one `users_by_emails`
/// call.
pub struct UserByEmailLoader {
    store: Arc<dyn CommerceStore>,
}

impl UserByEmailLoader {
    pub fn new(store: Arc<dyn CommerceStore>) -> Self {
        Self { store }
    }
}

impl Loader<Email> for UserByEmailLoader {
    type Value = User;
    type Error = StoreError;

    async fn load(&self, keys: &[Email]) -> Result<HashMap<Email, User>, StoreError> {
        let users = self.store.users_by_emails(keys).await?;
        Ok(users.into_iter().map(|u| (u.email.clone(), u)).collect())
    }
}

/// The user with `email` through the request's batch loader.
pub(crate) async fn load_user_by_email(
    ctx: &Context<'_>,
    email: Email,
) -> Result<Option<UserNode>> {
    ctx.data_unchecked::<Batcher<Email, UserByEmailLoader>>()
        .load_one(email)
        .await
        .map(|user| user.map(UserNode::new))
        .map_err(store_failed)
}

/// The user with `id` through the request's batch loader.
pub(crate) async fn load_user(ctx: &Context<'_>, id: UserId) -> Result<Option<UserNode>> {
    ctx.data_unchecked::<Batcher<UserId, UserLoader>>()
        .load_one(id)
        .await
        .map(|user| user.map(UserNode::new))
        .map_err(store_failed)
}
