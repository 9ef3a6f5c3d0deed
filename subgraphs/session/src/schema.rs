//! The session subgraph's GraphQL API (Apollo Federation v2): the viewer's sessions, revoking
//! them, and `User.sessions` on the `User` entity owned by the commerce subgraph.
//!
//! Non-obvious decision: `User.sessions` goes through a schema-wide [`Batcher`] without a
//! cache, so the N user representations of one `_entities` call become ONE
//! `sessions_of_users` store call, while nothing is ever served from a stale cache. Permission
//! is checked per user before the load, so a forbidden user never reaches the store.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, EmptySubscription, ID, Object, Result, Schema, SimpleObject};
use polygate_kit::batch::Batcher;
use polygate_kit::error::internal_error;
use polygate_kit::{ErrorCode, Viewer, api_error};

use crate::store::{self, SessionStore, StoreError};

pub type SessionSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the executable schema over `store`.
pub fn build(store: Arc<dyn SessionStore>) -> SessionSchema {
    let loader = Batcher::new(SessionsLoader(store.clone()));
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .data(store)
        .data(loader)
        .finish()
}

// Deliberately has no field for the token or its hash.
/// One of a user's live sessions (an entity: other subgraphs may reference it by `id`).
#[derive(SimpleObject)]
#[graphql(name = "Session", complex)]
pub struct SessionNode {
    // `<user id>.<random part>`: names the session (for `revokeSession`), never authenticates.
    id: ID,
    /// Unix seconds.
    created_at: i64,
    /// Unix seconds of the last successful validation.
    last_seen_at: i64,
    /// Unix seconds after which the session is dead unless used again.
    expires_at: i64,
    /// Whether this is the session making the request.
    current: bool,
    #[graphql(skip)]
    user_id: String,
}

#[async_graphql::ComplexObject]
impl SessionNode {
    /// Whose session this is (the `User` entity, owned by commerce).
    async fn user(&self) -> User {
        User {
            id: ID(self.user_id.clone()),
        }
    }
}

impl SessionNode {
    fn new(session: store::Session, viewer: &Viewer) -> Self {
        Self {
            current: session.id == viewer.session_id,
            user_id: session.user_id,
            id: ID(session.id),
            created_at: session.created_at,
            last_seen_at: session.last_seen_at,
            expires_at: session.expires_at,
        }
    }
}

/// The `User` entity, extended here with the user's sessions.
pub struct User {
    id: ID,
}

#[Object]
impl User {
    async fn id(&self) -> &ID {
        &self.id
    }

    /// The user's live sessions: visible to the user and to staff.
    ///
    /// Nullable on purpose: this field lives in another store than the rest of `User`, and a
    /// failure here (FORBIDDEN, STORE_UNAVAILABLE) must null only this field, not the user.
    async fn sessions(&self, ctx: &Context<'_>) -> Result<Option<Vec<SessionNode>>> {
        let viewer = Viewer::require(ctx)?;
        if viewer.user_id != self.id.as_str() && !viewer.staff {
            return Err(api_error(
                ErrorCode::Forbidden,
                "only the user and staff see a user's sessions",
            ));
        }
        let sessions = ctx
            .data::<Batcher<String, SessionsLoader>>()?
            .load_one(self.id.to_string())
            .await
            .map_err(|e| internal_error(ErrorCode::StoreUnavailable, &e))?
            .unwrap_or_default();
        Ok(Some(
            sessions
                .into_iter()
                .map(|s| SessionNode::new(s, viewer))
                .collect(),
        ))
    }
}

/// Batches `User.sessions` loads into one `sessions_of_users` call.
pub struct SessionsLoader(Arc<dyn SessionStore>);

impl Loader<String> for SessionsLoader {
    type Value = Vec<store::Session>;
    type Error = Arc<StoreError>;

    async fn load(
        &self,
        user_ids: &[String],
    ) -> Result<HashMap<String, Vec<store::Session>>, Arc<StoreError>> {
        self.0.sessions_of_users(user_ids).await.map_err(Arc::new)
    }
}

pub struct Query;

#[Object]
impl Query {
    /// The signed-in user's live sessions, oldest first.
    async fn my_sessions(&self, ctx: &Context<'_>) -> Result<Vec<SessionNode>> {
        let viewer = Viewer::require(ctx)?;
        let sessions = own_sessions(ctx, viewer).await?;
        Ok(sessions
            .into_iter()
            .map(|s| SessionNode::new(s, viewer))
            .collect())
    }

    /// Resolves `User` representations; the stub's fields load lazily.
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Result<User> {
        if !store::is_valid_user_id(&id) {
            return Err(bad_input("malformed user id"));
        }
        Ok(User { id })
    }

    /// Resolves `Session` representations: the owner's or, for staff, anyone's live session;
    /// `null` (like an unknown id) otherwise, so ids cannot be probed.
    #[graphql(entity)]
    async fn find_session_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<SessionNode>> {
        let viewer = Viewer::require(ctx)?;
        let Some((owner, _)) = store::parse_session_id(&id) else {
            return Err(bad_input(
                "session ids are `<user id>.<32 lowercase hex characters>`",
            ));
        };
        if !viewer.staff && owner != viewer.user_id {
            return Ok(None);
        }
        let sessions = ctx
            .data::<Batcher<String, SessionsLoader>>()?
            .load_one(owner.to_owned())
            .await
            .map_err(|e| internal_error(ErrorCode::StoreUnavailable, &e))?
            .unwrap_or_default();
        Ok(sessions
            .into_iter()
            .find(|s| s.id == id.as_str())
            .map(|s| SessionNode::new(s, viewer)))
    }
}

pub struct Mutation;

#[Object]
impl Mutation {
    /// Ends one session: the viewer's own, or anyone's for staff. `NOT_FOUND` when there is no
    /// such live session the viewer may see.
    async fn revoke_session(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let viewer = Viewer::require(ctx)?;
        let Some((owner, _)) = store::parse_session_id(&id) else {
            return Err(bad_input(
                "session ids are `<user id>.<32 lowercase hex characters>`",
            ));
        };
        let not_found = || api_error(ErrorCode::NotFound, "no such session");
        // The id names its user, so someone else's session answers NOT_FOUND without a store
        // call, exactly like a session that does not exist: ids cannot be probed.
        if !viewer.staff && owner != viewer.user_id {
            return Err(not_found());
        }
        if store_of(ctx)?.revoke(&id).await.map_err(store_failed)? {
            Ok(true)
        } else {
            Err(not_found())
        }
    }

    /// Ends every session of the viewer, this one included; returns how many ended.
    async fn revoke_all_sessions(&self, ctx: &Context<'_>) -> Result<i64> {
        let viewer = Viewer::require(ctx)?;
        let ended = store_of(ctx)?
            .revoke_all(&viewer.user_id)
            .await
            .map_err(store_failed)?;
        Ok(i64::try_from(ended).unwrap_or(i64::MAX))
    }
}

fn store_of<'a>(ctx: &'a Context<'_>) -> Result<&'a Arc<dyn SessionStore>> {
    ctx.data::<Arc<dyn SessionStore>>()
}

async fn own_sessions(ctx: &Context<'_>, viewer: &Viewer) -> Result<Vec<store::Session>> {
    let mut by_user = store_of(ctx)?
        .sessions_of_users(std::slice::from_ref(&viewer.user_id))
        .await
        .map_err(store_failed)?;
    Ok(by_user.remove(&viewer.user_id).unwrap_or_default())
}

fn store_failed(e: StoreError) -> async_graphql::Error {
    internal_error(ErrorCode::StoreUnavailable, &e)
}

fn bad_input(message: &str) -> async_graphql::Error {
    api_error(ErrorCode::BadUserInput, message)
}
