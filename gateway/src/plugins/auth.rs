//! Sign-in at the gateway: `Authorization: Bearer <token>` becomes a viewer with one session
//! store round trip (which also touches the session), and the viewer is forwarded to subgraphs
//! in identity headers that clients cannot set: every incoming copy is stripped first.
//!
//! A missing, malformed, expired or revoked token leaves the request anonymous; fields that need
//! a user then fail with `UNAUTHENTICATED` in their subgraph, and public fields still answer.
//! A client address or session over its rate limit gets HTTP 429 with `RATE_LIMITED` and a
//! `Retry-After` header (see `admission`).

use hive_router::executor::hooks::on_http_request::OnHttpRequestHookPayload;
use hive_router::executor::hooks::on_subgraph_execute::OnSubgraphExecuteStartHookPayload;
use polygate_kit::auth::IDENTITY_HEADERS;
use polygate_kit::{ErrorCode, Viewer};

use crate::admission::Admission;
use crate::metrics::RATE_LIMITED;
use crate::state::GatewayState;

/// Longest bearer token accepted before asking the store.
const MAX_TOKEN_LEN: usize = 512;
const GRAPHQL_PATH: &str = "/graphql";

/// HTTP 429 with a `RATE_LIMITED` GraphQL error and `Retry-After` in whole seconds.
fn rate_limited(scope: &str, retry_after_ms: u64) -> ntex::http::Response {
    let body = serde_json::json!({ "errors": [{
        "message": format!("too many requests from this {scope}; retry in {retry_after_ms} ms"),
        "extensions": { "code": ErrorCode::RateLimited.as_str(), "retryAfterMs": retry_after_ms },
    }]});
    ntex::http::Response::build(ntex::http::StatusCode::TOO_MANY_REQUESTS)
        .content_type("application/json")
        .header("retry-after", retry_after_ms.div_ceil(1000).to_string())
        .body(body.to_string())
}

/// The token from an `Authorization: Bearer …` value, if it is one and of a sane size.
pub fn bearer_token(header: Option<&str>) -> Option<&str> {
    let value = header?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= MAX_TOKEN_LEN)
        .then_some(token)
}

/// Replaces the `Authorization` value with a copy of its own. ntex keeps a header value longer
/// than 23 bytes (`ntex-bytes`' inline capacity) as a slice of the connection's read buffer, and
/// a bearer token is ~120 bytes: while the request lives, that buffer cannot be reused for the
/// connection's next read, so a busy keep-alive connection allocates another.
fn own_authorization(headers: &mut ntex::http::HeaderMap) {
    let name = http::header::AUTHORIZATION;
    if let Some(owned) = headers
        .get(&name)
        .and_then(|value| ntex::http::header::HeaderValue::from_bytes(value.as_bytes()).ok())
    {
        headers.insert(name, owned);
    }
}

/// Strips identity headers from every request and signs in a `/graphql` request's bearer token,
/// putting its viewer into the request's context. Returns the response to send instead when the
/// client or session is over its rate limit.
pub async fn admit(
    state: &GatewayState,
    payload: &mut OnHttpRequestHookPayload<'_>,
) -> Option<ntex::http::Response> {
    let request = &mut payload.router_http_request;
    let headers = request.headers_mut();
    for name in IDENTITY_HEADERS {
        headers.remove(name);
    }
    if !request.path().starts_with(GRAPHQL_PATH) {
        return None;
    }
    own_authorization(request.headers_mut());
    let token = bearer_token(
        request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    );
    // A cached verdict or a client address's metered bucket answers in place; only a store call
    // crosses to the stores' runtime.
    let client_ip = request.peer_addr().map(|a| a.ip());
    let admission = match state.gatekeeper.admit_now(token, client_ip) {
        Some(admission) => Ok(admission),
        None => {
            let token = token.map(str::to_owned);
            let gatekeeper = state.gatekeeper.clone();
            state
                .runtime
                .spawn(async move { gatekeeper.admit(token, client_ip).await })
                .await
        }
    };
    match admission {
        Ok(Admission::Admitted(Some(viewer))) => {
            payload.context.insert(viewer);
        }
        Ok(Admission::Admitted(None)) => {}
        Ok(Admission::Limited {
            scope,
            retry_after_ms,
        }) => {
            RATE_LIMITED.with_label_values(&[scope]).inc();
            return Some(rate_limited(scope, retry_after_ms));
        }
        Err(e) => tracing::error!(error = %e, "admission task failed"),
    }
    None
}

/// Sends the signed-in viewer to the subgraph in the identity headers.
pub fn forward_viewer(payload: &mut OnSubgraphExecuteStartHookPayload<'_>) {
    if let Some(viewer) = payload.context.get_ref::<Viewer>() {
        viewer.write_headers(&mut payload.execution_request.headers);
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn only_a_bearer_token_of_sane_size_is_taken() {
        assert_eq!(bearer_token(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer_token(Some("Basic abc")), None);
        assert_eq!(bearer_token(Some("Bearer")), None);
        assert_eq!(bearer_token(Some("Bearer ")), None);
        assert_eq!(bearer_token(None), None);
        let long = format!("Bearer {}", "a".repeat(600));
        assert_eq!(bearer_token(Some(&long)), None);
    }
}
