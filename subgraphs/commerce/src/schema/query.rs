//! Queries: the signed-in user, one user, the staff-only user list, the catalog, one order, and
//! the federation entity resolvers for `User`, `Product` and `Order`. The work behind the
//! product and order fields lives in `product.rs` and `order.rs`.
//!
//! Non-obvious: paged fields fetch one row more than asked to learn `hasNextPage` without a
//! count.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use polygate_kit::{ErrorCode, Viewer, api_error};

use super::order::{self, OrderNode};
use super::product::{self, ProductNode, ProductPage};
use super::user::{self, UserNode, load_user};
use super::{may_see, page_size, parse_id, parse_user_id, signed_in, store, store_failed};
use crate::domain::{Email, Sku};
use crate::ids::ProductId;

pub struct Query;

/// One page of users in id order.
#[derive(SimpleObject)]
pub struct UserPage {
    pub nodes: Vec<UserNode>,
    /// The id of the last node; pass it as `after` for the next page.
    pub end_cursor: Option<ID>,
    pub has_next_page: bool,
}

#[Object]
impl Query {
    /// The signed-in user; `UNAUTHENTICATED` without a session.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<UserNode>> {
        let (_, id) = signed_in(ctx)?;
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
        let first = page_size(first, 20)?;
        let after = after
            .as_ref()
            .map(|a| parse_user_id(a, "after"))
            .transpose()?;
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

    /// A product by `id` or by `sku` (exactly one of the two); null when none matches.
    async fn product(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        sku: Option<String>,
    ) -> Result<Option<ProductNode>> {
        product::product(ctx, id, sku).await
    }

    /// Products for sale (of `category`, a slug, when given) in id order, `first` (1 to 100) at
    /// a time after the `after` cursor.
    async fn products(
        &self,
        ctx: &Context<'_>,
        category: Option<String>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<ID>,
    ) -> Result<ProductPage> {
        product::products(ctx, category, first, after).await
    }

    /// An order: its buyer and staff only (`FORBIDDEN` for others); `NOT_FOUND` when missing.
    async fn order(&self, ctx: &Context<'_>, id: ID) -> Result<Option<OrderNode>> {
        order::order(ctx, id).await
    }

    /// Federation: resolves `User` representations; batched through the user loader.
    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<UserNode>> {
        let id = parse_user_id(&id, "id")?;
        load_user(ctx, id).await
    }

    /// Federation: resolves `User` representations by email (how other subgraphs, e.g. org, link
    /// people to users); batched through the by-email loader. A malformed email is no user.
    #[graphql(entity)]
    async fn find_user_by_email(
        &self,
        ctx: &Context<'_>,
        email: String,
    ) -> Result<Option<UserNode>> {
        match Email::parse(&email) {
            Ok(email) => user::load_user_by_email(ctx, email).await,
            Err(_) => Ok(None),
        }
    }

    /// Federation: resolves `Product` representations; batched through the product loader.
    #[graphql(entity)]
    async fn find_product_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ProductNode>> {
        let id = parse_id::<ProductId>(&id, "id", "product")?;
        product::load_product(ctx, id).await
    }

    /// Federation: resolves `Product` representations by SKU (how catalog and search reference
    /// products); batched through the by-SKU loader. A malformed SKU is no product.
    #[graphql(entity)]
    async fn find_product_by_sku(
        &self,
        ctx: &Context<'_>,
        sku: String,
    ) -> Result<Option<ProductNode>> {
        match Sku::parse(&sku) {
            Ok(sku) => product::load_product_by_sku(ctx, sku).await,
            Err(_) => Ok(None),
        }
    }

    /// Federation: resolves `Order` representations for their buyer or staff only; batched
    /// through the order loader.
    #[graphql(entity)]
    async fn find_order_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<OrderNode>> {
        order::find_order(ctx, id).await
    }
}
