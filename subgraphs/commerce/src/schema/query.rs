//! Queries: the signed-in user, one user, the staff-only user list, and the federation entity
//! resolver for `User`.
//!
//! Non-obvious: `users` fetches one row more than asked to learn `hasNextPage` without a count.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use polygate_kit::{ErrorCode, Viewer, api_error};

use super::user::{UserNode, load_user};
use super::{may_see, parse_user_id, store, store_failed};
use crate::ids::UserId;

pub struct Query;

/// One page of users in id order.
#[derive(SimpleObject)]
pub struct UserPage {
    pub nodes: Vec<UserNode>,
    /// The id of the last node; pass it as `after` for the next page.
    pub end_cursor: Option<ID>,
    pub has_next_page: bool,
}

/// Largest `first` the `users` query accepts.
pub const MAX_PAGE: i32 = 100;

#[Object]
impl Query {
    /// The signed-in user; `UNAUTHENTICATED` without a session.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<UserNode>> {
        let viewer = Viewer::require(ctx)?;
        let id: UserId = viewer
            .user_id
            .parse()
            .map_err(|_| api_error(ErrorCode::Unauthenticated, "the session's user is unknown"))?;
        match load_user(ctx, id).await? {
            Some(user) => Ok(Some(user)),
            None => Err(api_error(
                ErrorCode::NotFound,
                "the signed-in user no longer exists",
            )),
        }
    }

    /// A user by id: the user themself or staff only.
    async fn user(&self, ctx: &Context<'_>, id: ID) -> Result<Option<UserNode>> {
        let id = parse_user_id(&id, "id")?;
        let viewer = Viewer::require(ctx)?;
        if !may_see(Some(viewer), id) {
            return Err(api_error(
                ErrorCode::Forbidden,
                "only the user and staff may see a user",
            ));
        }
        load_user(ctx, id).await
    }

    /// All users in id order, `first` (1 to 100) at a time after the `after` cursor; staff only.
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<ID>,
    ) -> Result<UserPage> {
        if !Viewer::require(ctx)?.staff {
            return Err(api_error(ErrorCode::Forbidden, "only staff may list users"));
        }
        let first = first.unwrap_or(20);
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(api_error(
                ErrorCode::BadUserInput,
                format!("first: must be between 1 and {MAX_PAGE}"),
            ));
        }
        let after = after
            .as_ref()
            .map(|a| parse_user_id(a, "after"))
            .transpose()?;
        let first = first as u32;
        let mut users = store(ctx)
            .list_users(first + 1, after)
            .await
            .map_err(store_failed)?;
        let has_next_page = users.len() > first as usize;
        users.truncate(first as usize);
        Ok(UserPage {
            end_cursor: users.last().map(|u| ID(u.id.to_string())),
            nodes: users.into_iter().map(UserNode::new).collect(),
            has_next_page,
        })
    }

    /// Federation: resolves `User` representations; batched through the user loader.
    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<UserNode>> {
        let id = parse_user_id(&id, "id")?;
        load_user(ctx, id).await
    }
}
