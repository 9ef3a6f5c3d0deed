//! The signed-in identity as the gateway hands it to subgraphs, and the ports that issue and
//! check session tokens.
//!
//! The gateway resolves `Authorization: Bearer <token>` once per request and forwards only the
//! user id in [`USER_HEADER`]; it strips that header from every incoming client request, so a
//! client cannot claim to be someone else. Subgraphs trust the header because only the gateway
//! can reach them (in-process, or on a private network in service mode).

use async_trait::async_trait;

use crate::error::{ErrorCode, api_error};

/// Header carrying the authenticated user's id from the gateway to subgraphs.
pub const USER_HEADER: &str = "x-polygate-user";
/// Header carrying the authenticated session's id (not the token) to subgraphs.
pub const SESSION_HEADER: &str = "x-polygate-session";
/// Header present (value `1`) when the authenticated user is staff.
pub const STAFF_HEADER: &str = "x-polygate-staff";

/// Every identity header; the gateway strips all of them from incoming client requests.
pub const IDENTITY_HEADERS: [&str; 3] = [USER_HEADER, SESSION_HEADER, STAFF_HEADER];

/// Who is asking: present in a request's data only when the gateway authenticated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: String,
    pub session_id: String,
    /// Staff may read other users' data and run admin operations. Fixed when the session is
    /// issued: a role change applies from the next sign-in.
    pub staff: bool,
}

impl Viewer {
    /// Reads the identity the gateway forwarded, if any.
    pub fn from_headers(headers: &http::HeaderMap) -> Option<Viewer> {
        let user_id = headers.get(USER_HEADER)?.to_str().ok()?.trim();
        let session_id = headers
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .trim();
        let staff = headers.get(STAFF_HEADER).is_some_and(|v| v == "1");
        (!user_id.is_empty()).then(|| Viewer {
            user_id: user_id.to_owned(),
            session_id: session_id.to_owned(),
            staff,
        })
    }

    /// Writes this identity as the headers [`Viewer::from_headers`] reads.
    pub fn write_headers(&self, headers: &mut http::HeaderMap) {
        for (name, value) in [
            (USER_HEADER, self.user_id.as_str()),
            (SESSION_HEADER, self.session_id.as_str()),
        ] {
            if let Ok(value) = http::HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        }
        if self.staff {
            headers.insert(STAFF_HEADER, http::HeaderValue::from_static("1"));
        }
    }

    /// The viewer of this request, or `UNAUTHENTICATED`.
    pub fn require<'a>(ctx: &'a async_graphql::Context<'_>) -> async_graphql::Result<&'a Viewer> {
        ctx.data_opt::<Viewer>()
            .ok_or_else(|| api_error(ErrorCode::Unauthenticated, "sign in to see this field"))
    }
}

/// A freshly issued session token: shown to the client once, never stored in clear.
#[derive(Debug, Clone)]
pub struct IssuedSession {
    pub token: String,
    pub session_id: String,
    /// When the session ends at the latest, in Unix seconds.
    pub expires_at_unix: i64,
}

/// Failure of the session store behind an issuer or verifier.
#[derive(Debug, thiserror::Error)]
#[error("session store unavailable: {0}")]
pub struct SessionStoreUnavailable(pub String);

/// Issues and revokes session tokens (implemented by the session subgraph's store; used by
/// commerce's `login` / `logout`).
#[async_trait]
pub trait SessionIssuer: Send + Sync {
    async fn issue(
        &self,
        user_id: &str,
        staff: bool,
    ) -> Result<IssuedSession, SessionStoreUnavailable>;
    async fn revoke_token(&self, token: &str) -> Result<bool, SessionStoreUnavailable>;
}

/// Turns a bearer token into a viewer, touching the session (implemented by the session store;
/// used by the gateway's auth plugin).
#[async_trait]
pub trait TokenVerifier: Send + Sync {
    async fn verify(&self, token: &str) -> Result<Option<Viewer>, SessionStoreUnavailable>;

    /// [`verify`](Self::verify) and `cost` tokens from the session's own bucket (`capacity`,
    /// refilled at `per_sec`) in the same store call.
    ///
    /// `cost` is 1 for the request at hand plus the requests a gateway admitted from its
    /// validation cache since its last call for this session (billed late, never forgiven).
    /// When the bucket holds `cost` tokens they are taken and the verdict allows. Otherwise the
    /// request at hand is refused, and the `cost - 1` requests that already went through are
    /// charged anyway: the bucket may go into debt (at most `capacity` tokens deep), which the
    /// session pays off at `per_sec` before it is let through again. With `cost` 1 that is the
    /// plain token bucket.
    async fn verify_metered(
        &self,
        token: &str,
        capacity: u32,
        per_sec: f64,
        cost: u32,
    ) -> Result<Option<(Viewer, RateVerdict)>, SessionStoreUnavailable>;

    /// [`verify`](Self::verify) when it can answer without waiting (a gateway's validation
    /// cache holds a fresh verdict); `None` means "call `verify`". Never asks the store.
    fn verify_now(&self, _token: &str) -> Option<Viewer> {
        None
    }

    /// [`verify_metered`](Self::verify_metered) when it can answer without waiting; `None`
    /// means "call `verify_metered`". Never asks the store.
    fn verify_metered_now(
        &self,
        _token: &str,
        _capacity: u32,
        _per_sec: f64,
        _cost: u32,
    ) -> Option<(Viewer, RateVerdict)> {
        None
    }
}

/// A token bucket's answer: go ahead, or wait this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateVerdict {
    pub allowed: bool,
    /// 0 when allowed: how long until one token is back.
    pub retry_after_ms: u64,
    /// Whole tokens left in the bucket after this call; 0 when refused. A gateway seeds its
    /// local copy of a session's bucket with it.
    pub remaining: u32,
}

/// A token bucket per key (`client:<address>`, `session:<id>`), kept where every gateway
/// instance sees the same count (the session store; implemented by the session subgraph).
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Takes `cost` tokens from `key`'s bucket of `capacity` tokens refilled at `per_sec`.
    ///
    /// `cost` is 1 for the request at hand plus the requests a gateway admitted from its local
    /// copy of the bucket since its last call for this key, with exactly the semantics of
    /// [`TokenVerifier::verify_metered`]: when the bucket holds `cost` tokens they are taken;
    /// otherwise the request at hand is refused and `cost - 1` tokens are taken anyway, into
    /// debt no deeper than `-capacity`. With `cost` 1 that is the plain token bucket.
    async fn take(
        &self,
        key: &str,
        capacity: u32,
        per_sec: f64,
        cost: u32,
    ) -> Result<RateVerdict, SessionStoreUnavailable>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_without_the_user_header_has_no_viewer() {
        assert_eq!(Viewer::from_headers(&http::HeaderMap::new()), None);
    }

    #[test]
    fn the_user_header_becomes_the_viewer() {
        let mut headers = http::HeaderMap::new();
        headers.insert(USER_HEADER, "u_42".parse().unwrap());
        headers.insert(SESSION_HEADER, "s_1".parse().unwrap());
        let viewer = Viewer::from_headers(&headers).unwrap();
        assert_eq!(viewer.user_id, "u_42");
        assert_eq!(viewer.session_id, "s_1");
        assert!(!viewer.staff);
    }

    #[test]
    fn written_headers_read_back_as_the_same_viewer() {
        let viewer = Viewer {
            user_id: "u_7".into(),
            session_id: "s_9".into(),
            staff: true,
        };
        let mut headers = http::HeaderMap::new();
        viewer.write_headers(&mut headers);
        assert_eq!(Viewer::from_headers(&headers), Some(viewer));
    }

    #[test]
    fn a_blank_user_header_is_no_viewer() {
        let mut headers = http::HeaderMap::new();
        headers.insert(USER_HEADER, "  ".parse().unwrap());
        assert_eq!(Viewer::from_headers(&headers), None);
    }
}
