//! The session store seen through the kit's identity ports: commerce issues and revokes tokens
//! with [`SessionIssuer`], the gateway turns bearer tokens into viewers with [`TokenVerifier`] and
//! meters requests with [`RateLimiter`].
//!
//! Non-obvious decision: every store error becomes [`SessionStoreUnavailable`] (the detail kept
//! in its message for logs), so callers answer "try again" rather than "not signed in" when the
//! store is down; an unknown or expired token is `Ok(None)`, not an error.

use std::sync::Arc;

use async_trait::async_trait;
use polygate_kit::Viewer;
use polygate_kit::auth::{
    IssuedSession, RateLimiter, RateVerdict, SessionIssuer, SessionStoreUnavailable, TokenVerifier,
};

use crate::store::{RateDecision, Session, SessionStore, StoreError};

/// Issues and verifies session tokens against a [`SessionStore`].
#[derive(Clone)]
pub struct SessionAuth(pub Arc<dyn SessionStore>);

fn unavailable(e: StoreError) -> SessionStoreUnavailable {
    SessionStoreUnavailable(e.to_string())
}

#[async_trait]
impl SessionIssuer for SessionAuth {
    async fn issue(
        &self,
        user_id: &str,
        staff: bool,
    ) -> Result<IssuedSession, SessionStoreUnavailable> {
        let (token, session) = self.0.create(user_id, staff).await.map_err(unavailable)?;
        Ok(IssuedSession {
            token,
            session_id: session.id,
            expires_at_unix: session.expires_at,
        })
    }

    async fn revoke_token(&self, token: &str) -> Result<bool, SessionStoreUnavailable> {
        self.0.revoke_token(token).await.map_err(unavailable)
    }
}

#[async_trait]
impl TokenVerifier for SessionAuth {
    async fn verify(&self, token: &str) -> Result<Option<Viewer>, SessionStoreUnavailable> {
        let session = self.0.validate(token).await.map_err(unavailable)?;
        Ok(session.map(viewer_of))
    }

    async fn verify_metered(
        &self,
        token: &str,
        capacity: u32,
        per_sec: f64,
        cost: u32,
    ) -> Result<Option<(Viewer, RateVerdict)>, SessionStoreUnavailable> {
        let validated = self
            .0
            .validate_metered(token, capacity, per_sec, cost)
            .await
            .map_err(unavailable)?;
        Ok(validated.map(|(session, decision)| (viewer_of(session), verdict_of(decision))))
    }
}

fn verdict_of(decision: RateDecision) -> RateVerdict {
    RateVerdict {
        allowed: decision.allowed,
        retry_after_ms: decision.retry_after_ms,
        remaining: decision.remaining,
    }
}

fn viewer_of(session: Session) -> Viewer {
    Viewer {
        user_id: session.user_id,
        session_id: session.id,
        staff: session.staff,
    }
}

#[async_trait]
impl RateLimiter for SessionAuth {
    async fn take(
        &self,
        key: &str,
        capacity: u32,
        per_sec: f64,
        cost: u32,
    ) -> Result<RateVerdict, SessionStoreUnavailable> {
        let decision = self
            .0
            .rate_limit(key, capacity, per_sec, cost)
            .await
            .map_err(unavailable)?;
        Ok(verdict_of(decision))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MemoryStore, SessionPolicy};

    #[tokio::test]
    async fn an_issued_token_verifies_to_its_viewer_until_revoked() {
        let auth = SessionAuth(Arc::new(MemoryStore::new(SessionPolicy::default())));
        let issued = auth.issue("u_9", true).await.unwrap();
        let viewer = auth.verify(&issued.token).await.unwrap().expect("valid");
        assert_eq!(viewer.user_id, "u_9");
        assert_eq!(viewer.session_id, issued.session_id);
        assert!(viewer.staff);
        assert!(auth.revoke_token(&issued.token).await.unwrap());
        assert_eq!(auth.verify(&issued.token).await.unwrap(), None);
    }
}
