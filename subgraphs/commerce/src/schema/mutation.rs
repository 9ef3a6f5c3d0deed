//! Mutations: registration, sign-in and sign-out here; addresses, placing and cancelling orders,
//! paying, shipping and refunding them, restocking and pricing hand over to `address.rs`,
//! `order.rs`, `lifecycle.rs` and `product.rs`.
//!
//! Non-obvious: an unknown email and a wrong password give the same `UNAUTHENTICATED` error, and
//! an unknown (or malformed) email still pays for one dummy argon2 verification, so neither the
//! message nor the timing tells whether an account exists.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use polygate_kit::auth::SessionIssuer;
use polygate_kit::error::internal_error;
use polygate_kit::{ErrorCode, api_error};

use super::address::{self, AddressInput, AddressNode};
use super::lifecycle::{self, PayOrderInput};
use super::order::{self, OrderNode, PlaceOrderInput};
use super::product::{self, ProductNode, RestockInput, SetPriceInput};
use super::user::UserNode;
use super::{Issuer, bad_input, store, store_failed};
use crate::domain::{DisplayName, Email, NewUser, Password};
use crate::password::PasswordHasher;
use crate::store::StoreError;

pub struct Mutation;

#[derive(InputObject)]
pub struct RegisterInput {
    pub email: String,
    pub password: String,
    pub name: String,
}

/// A new session: show `token` to the client once.
#[derive(SimpleObject)]
pub struct AuthPayload {
    pub token: String,
    /// When the session ends at the latest, in Unix seconds.
    pub expires_at: i64,
    pub user: UserNode,
}

fn wrong_credentials() -> async_graphql::Error {
    api_error(ErrorCode::Unauthenticated, "wrong email or password")
}

fn issuer<'a>(ctx: &Context<'a>) -> Result<&'a dyn SessionIssuer> {
    ctx.data_unchecked::<Issuer>()
        .0
        .as_deref()
        .ok_or_else(|| api_error(ErrorCode::Internal, "sign-in is served by the gateway"))
}

#[Object]
impl Mutation {
    /// Creates a (non-staff) account. `CONFLICT` when the email is taken.
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> Result<UserNode> {
        let email = Email::parse(&input.email).map_err(bad_input)?;
        let password = Password::parse(&input.password).map_err(bad_input)?;
        let name = DisplayName::parse(&input.name).map_err(bad_input)?;
        let hash = ctx
            .data_unchecked::<PasswordHasher>()
            .hash(&password)
            .await
            .map_err(|e| internal_error(ErrorCode::Internal, &e))?;
        match store(ctx)
            .create_user(NewUser::new(email, name, hash))
            .await
        {
            Ok(user) => Ok(UserNode::for_owner(user)),
            Err(StoreError::Conflict(_)) => Err(api_error(
                ErrorCode::Conflict,
                "email: an account with this email already exists",
            )),
            Err(e) => Err(store_failed(e)),
        }
    }

    /// Checks the credentials and issues a session token.
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
    ) -> Result<AuthPayload> {
        let issuer = issuer(ctx)?;
        let hasher = ctx.data_unchecked::<PasswordHasher>();
        let hash_failed = |e| internal_error(ErrorCode::Internal, &e);
        let found = match Email::parse(&email) {
            Ok(email) => store(ctx)
                .user_by_email(&email)
                .await
                .map_err(store_failed)?,
            Err(_) => None,
        };
        let Some(found) = found else {
            hasher.verify_dummy(&password).await.map_err(hash_failed)?;
            return Err(wrong_credentials());
        };
        if !hasher
            .verify(&password, &found.password_hash)
            .await
            .map_err(hash_failed)?
        {
            return Err(wrong_credentials());
        }
        let user = found.user;
        let session = issuer
            .issue(&user.id.to_string(), user.staff)
            .await
            .map_err(|e| internal_error(ErrorCode::StoreUnavailable, &e))?;
        Ok(AuthPayload {
            token: session.token,
            expires_at: session.expires_at_unix,
            user: UserNode::for_owner(user),
        })
    }

    /// Revokes `token`; true when it was a live session.
    async fn logout(&self, ctx: &Context<'_>, token: String) -> Result<bool> {
        issuer(ctx)?
            .revoke_token(&token)
            .await
            .map_err(|e| internal_error(ErrorCode::StoreUnavailable, &e))
    }

    /// Places an order for the signed-in user, once per `idempotencyKey`: a retry returns the
    /// first order. `BAD_USER_INPUT` naming the field (`items[2].quantity: …`), `OUT_OF_STOCK`,
    /// `CONFLICT` when the key was used for a different order.
    async fn place_order(&self, ctx: &Context<'_>, input: PlaceOrderInput) -> Result<OrderNode> {
        order::place(ctx, input).await
    }

    /// Cancels an unpaid order and gives its stock back: the buyer or staff. `CONFLICT` once it
    /// is paid (refund it instead) or a payment is under way; cancelling a cancelled order
    /// returns it again.
    async fn cancel_order(&self, ctx: &Context<'_>, id: ID) -> Result<OrderNode> {
        order::cancel(ctx, id).await
    }

    /// Adds an address to the signed-in user's address book (at most 20). New orders ship to
    /// the newest address unless `placeOrder` names another.
    async fn add_address(&self, ctx: &Context<'_>, input: AddressInput) -> Result<AddressNode> {
        address::add(ctx, input).await
    }

    /// Pays the signed-in buyer's pending order: authorised, then captured; the order becomes
    /// paid. The same `idempotencyKey` again continues the same payment and never charges twice.
    /// `BAD_USER_INPUT` (`paymentMethod: declined …`) when the provider declines, `CONFLICT`
    /// when the order is not pending or another payment is under way, `STORE_UNAVAILABLE` when
    /// the provider did not answer (retry with the same key).
    async fn pay_order(&self, ctx: &Context<'_>, input: PayOrderInput) -> Result<OrderNode> {
        lifecycle::pay(ctx, input).await
    }

    /// Ships a paid order; staff only. Its reserved units leave the warehouse (`on_hand` and
    /// `reserved` fall together). `CONFLICT` unless it is paid; shipping it again returns it.
    async fn ship_order(&self, ctx: &Context<'_>, id: ID) -> Result<OrderNode> {
        lifecycle::ship(ctx, id).await
    }

    /// Marks a shipped order delivered; staff only. `CONFLICT` unless it has shipped.
    async fn mark_delivered(&self, ctx: &Context<'_>, id: ID) -> Result<OrderNode> {
        lifecycle::deliver(ctx, id).await
    }

    /// Refunds a paid, shipped or delivered order's payment; staff only. An order that had not
    /// shipped gives its stock back. `CONFLICT` when nothing was paid; refunding it again
    /// returns it.
    async fn refund_order(&self, ctx: &Context<'_>, id: ID) -> Result<OrderNode> {
        lifecycle::refund(ctx, id).await
    }

    /// Adds stock to a warehouse; staff only. A retry with the same `idempotencyKey` changes
    /// nothing; the key reused for a different restock is a `CONFLICT`.
    async fn restock(&self, ctx: &Context<'_>, input: RestockInput) -> Result<ProductNode> {
        product::restock(ctx, input).await
    }

    /// Sets a product's current price in one currency; staff only.
    async fn set_price(&self, ctx: &Context<'_>, input: SetPriceInput) -> Result<ProductNode> {
        product::set_price(ctx, input).await
    }
}
