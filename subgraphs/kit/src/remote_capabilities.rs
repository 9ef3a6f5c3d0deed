//! Capabilities across processes: a standalone subgraph serves the capabilities it provides at
//! `/capabilities/…` beside `/graphql`, and a standalone subgraph that uses one reaches it there.
//!
//! Today that is the one capability a service needs from another: commerce's `login` issues
//! session tokens in the session store, so `polygate-commerce serve` with `[subgraphs.session]
//! url` set issues them through the session service. Non-obvious: these endpoints sit behind the
//! same trust boundary as the identity headers (only the gateway and sibling services can reach a
//! subgraph service: a private network in the cloud), so they carry no credentials of their own.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use serde::{Deserialize, Serialize};

use crate::auth::{IssuedSession, SessionIssuer, SessionStoreUnavailable};
use crate::capabilities::Capabilities;

const ISSUE: &str = "/capabilities/session-issuer/issue";
const REVOKE_TOKEN: &str = "/capabilities/session-issuer/revoke-token";
/// A remote call is cut off after this long, as a store call would be.
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Serialize, Deserialize)]
struct IssueRequest {
    user_id: String,
    staff: bool,
}

#[derive(Serialize, Deserialize)]
struct IssueResponse {
    token: String,
    session_id: String,
    expires_at_unix: i64,
}

#[derive(Serialize, Deserialize)]
struct RevokeTokenRequest {
    token: String,
}

#[derive(Serialize, Deserialize)]
struct RevokeTokenResponse {
    revoked: bool,
}

/// The `/capabilities/…` routes for what `capabilities` holds (none when it provides nothing).
pub fn routes(capabilities: &Capabilities) -> Router {
    let mut router = Router::new();
    if let Some(issuer) = capabilities.get::<dyn SessionIssuer>() {
        router = router.merge(
            Router::new()
                .route(ISSUE, post(issue))
                .route(REVOKE_TOKEN, post(revoke_token))
                .with_state(issuer),
        );
    }
    router
}

async fn issue(
    State(issuer): State<Arc<dyn SessionIssuer>>,
    Json(request): Json<IssueRequest>,
) -> Result<Json<IssueResponse>, (StatusCode, String)> {
    let issued = issuer
        .issue(&request.user_id, request.staff)
        .await
        .map_err(unavailable)?;
    Ok(Json(IssueResponse {
        token: issued.token,
        session_id: issued.session_id,
        expires_at_unix: issued.expires_at_unix,
    }))
}

async fn revoke_token(
    State(issuer): State<Arc<dyn SessionIssuer>>,
    Json(request): Json<RevokeTokenRequest>,
) -> Result<Json<RevokeTokenResponse>, (StatusCode, String)> {
    let revoked = issuer
        .revoke_token(&request.token)
        .await
        .map_err(unavailable)?;
    Ok(Json(RevokeTokenResponse { revoked }))
}

fn unavailable(e: SessionStoreUnavailable) -> (StatusCode, String) {
    tracing::error!(error = %e, "session issuer failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "session store unavailable".to_owned(),
    )
}

/// A [`SessionIssuer`] served by another process at `base` (its GraphQL URL's origin).
pub struct RemoteSessionIssuer {
    issue_url: String,
    revoke_url: String,
    client: reqwest::Client,
}

impl RemoteSessionIssuer {
    /// `graphql_url` is the providing subgraph's GraphQL endpoint, as `[subgraphs.<name>] url`
    /// names it; the capability routes are looked up beside it.
    pub fn new(graphql_url: &str) -> anyhow::Result<Self> {
        let base = url::Url::parse(graphql_url)?;
        Ok(Self {
            issue_url: base.join(ISSUE)?.to_string(),
            revoke_url: base.join(REVOKE_TOKEN)?.to_string(),
            client: reqwest::Client::builder().timeout(TIMEOUT).build()?,
        })
    }

    async fn call<Req: Serialize, Resp: for<'de> Deserialize<'de>>(
        &self,
        url: &str,
        request: &Req,
    ) -> Result<Resp, SessionStoreUnavailable> {
        let failed = |e: &dyn std::fmt::Display| SessionStoreUnavailable(format!("{url}: {e}"));
        let response = self
            .client
            .post(url)
            .json(request)
            .send()
            .await
            .map_err(|e| failed(&e))?;
        if !response.status().is_success() {
            return Err(failed(&response.status()));
        }
        response.json().await.map_err(|e| failed(&e))
    }
}

#[async_trait]
impl SessionIssuer for RemoteSessionIssuer {
    async fn issue(
        &self,
        user_id: &str,
        staff: bool,
    ) -> Result<IssuedSession, SessionStoreUnavailable> {
        let request = IssueRequest {
            user_id: user_id.to_owned(),
            staff,
        };
        let response: IssueResponse = self.call(&self.issue_url, &request).await?;
        Ok(IssuedSession {
            token: response.token,
            session_id: response.session_id,
            expires_at_unix: response.expires_at_unix,
        })
    }

    async fn revoke_token(&self, token: &str) -> Result<bool, SessionStoreUnavailable> {
        let request = RevokeTokenRequest {
            token: token.to_owned(),
        };
        let response: RevokeTokenResponse = self.call(&self.revoke_url, &request).await?;
        Ok(response.revoked)
    }
}

/// Provides, in `capabilities`, the remote counterpart of every capability a subgraph served at
/// `graphql_url` may offer (today: the session issuer).
pub fn provide_remote(capabilities: &Capabilities, graphql_url: &str) -> anyhow::Result<()> {
    capabilities.provide::<dyn SessionIssuer>(Arc::new(RemoteSessionIssuer::new(graphql_url)?));
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;

    /// Issues `token-N`: a double of the kit's own port, not of a database.
    #[derive(Default)]
    struct Counting(Mutex<HashMap<String, String>>);

    #[async_trait]
    impl SessionIssuer for Counting {
        async fn issue(
            &self,
            user_id: &str,
            staff: bool,
        ) -> Result<IssuedSession, SessionStoreUnavailable> {
            let mut live = self.0.lock().unwrap();
            let token = format!("token-{}-{staff}", live.len() + 1);
            live.insert(token.clone(), user_id.to_owned());
            Ok(IssuedSession {
                token,
                session_id: format!("s{}", live.len()),
                expires_at_unix: 42,
            })
        }

        async fn revoke_token(&self, token: &str) -> Result<bool, SessionStoreUnavailable> {
            Ok(self.0.lock().unwrap().remove(token).is_some())
        }
    }

    #[tokio::test]
    async fn a_remote_issuer_issues_and_revokes_through_the_providing_service() {
        let served = Capabilities::default();
        served.provide::<dyn SessionIssuer>(Arc::new(Counting::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, routes(&served)).await });

        let used = Capabilities::default();
        provide_remote(&used, &format!("http://{address}/graphql")).unwrap();
        let issuer = used.get::<dyn SessionIssuer>().unwrap();
        let issued = issuer.issue("u_1", true).await.unwrap();
        assert_eq!(issued.token, "token-1-true");
        assert_eq!(issued.expires_at_unix, 42);
        assert!(issuer.revoke_token(&issued.token).await.unwrap());
        assert!(!issuer.revoke_token(&issued.token).await.unwrap());
    }

    #[tokio::test]
    async fn an_unreachable_provider_is_an_unavailable_store() {
        let issuer = RemoteSessionIssuer::new("http://127.0.0.1:1/graphql").unwrap();
        let Err(err) = issuer.issue("u_1", false).await else {
            panic!("a closed port issued a session");
        };
        assert!(err.0.contains("127.0.0.1:1"), "{err}");
    }
}
