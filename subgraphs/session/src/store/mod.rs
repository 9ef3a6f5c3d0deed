//! The session store port: what the schema and the gateway's auth need from a key-value store.
//!
//! Non-obvious decisions: a token routes itself. It reads `<user_id>.<sid>.<secret>`, so a store
//! finds the session from the token alone (one key, one Redis Cluster slot, no pointer keys),
//! and the public session id is `<user_id>.<sid>`. A store never keeps a clear secret: only its
//! SHA-256 ([`secret_hash`]), so a dump of the store cannot be replayed as a bearer token.
//! Malformed tokens and ids are refused here, before any store call.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use sha2::{Digest, Sha256};

pub mod conformance;
pub mod memory;
pub mod redis;

pub use memory::MemoryStore;
pub use redis::RedisStore;

/// Label for every [`polygate_kit::metrics::StoreCallTimer`] of this crate.
pub(crate) const SUBGRAPH: &str = "session";

/// Longest user id a store accepts (they come from the commerce subgraph).
pub const MAX_USER_ID_LEN: usize = 128;
/// Length of the random part of a session id: 128 random bits, lowercase hex.
pub const SID_LEN: usize = 32;
/// Length of a token's secret: 256 random bits, lowercase hex.
pub const SECRET_LEN: usize = 64;
/// Longest well-formed token: `<user_id>.<sid>.<secret>`.
pub const MAX_TOKEN_LEN: usize = MAX_USER_ID_LEN + 1 + SID_LEN + 1 + SECRET_LEN;
/// Longest session attribute name; names are `A-Z a-z 0-9 _ - . :`.
pub const MAX_ATTRIBUTE_NAME_LEN: usize = 64;
/// Longest session attribute value, in bytes.
pub const MAX_ATTRIBUTE_VALUE_LEN: usize = 4096;
/// Most attributes one session holds.
pub const MAX_ATTRIBUTES: usize = 32;
/// Longest rate-limit key, in bytes.
pub const MAX_RATE_KEY_LEN: usize = 256;

/// One live session as the store reports it. Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The public session id, `<user_id>.<sid>`.
    pub id: String,
    pub user_id: String,
    pub staff: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// `min(last_seen + idle, created + absolute)`: when the session dies unless touched.
    pub expires_at: i64,
}

/// Most sessions one user holds when the configuration says nothing
/// ([`SessionPolicy::max_sessions_per_user`]).
pub const DEFAULT_MAX_SESSIONS_PER_USER: u32 = 10;
/// Highest cap [`SessionPolicy::check`] accepts: it bounds the keys one eviction, listing or
/// `revoke_all` script declares.
pub const MAX_SESSIONS_PER_USER_LIMIT: u32 = 1_000;

/// How long sessions live and how many one user may hold; given to each adapter's constructor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session not validated for this long is dead (sliding). Default 30 min.
    pub idle_timeout: Duration,
    /// A session older than this is dead however often it is used. Default 12 h.
    pub absolute_lifetime: Duration,
    /// Most live sessions one user holds (default [`DEFAULT_MAX_SESSIONS_PER_USER`]). A sign-in
    /// past the cap succeeds and ends the user's sessions that would expire soonest (the least
    /// recently used), in the same atomic step: signing in never fails because of old
    /// sessions, and a user (or a stolen password) cannot grow the store without bound.
    pub max_sessions_per_user: u32,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_lifetime: Duration::from_secs(12 * 60 * 60),
            max_sessions_per_user: DEFAULT_MAX_SESSIONS_PER_USER,
        }
    }
}

impl SessionPolicy {
    /// Names the first setting out of range, for the configuration's error message: both
    /// durations must be at least 1 ms, the cap within `1..=`[`MAX_SESSIONS_PER_USER_LIMIT`].
    pub fn check(&self) -> Result<(), String> {
        if self.idle_timeout < Duration::from_millis(1) {
            return Err("idle_timeout: must be at least 1 ms".to_owned());
        }
        if self.absolute_lifetime < Duration::from_millis(1) {
            return Err("absolute_lifetime: must be at least 1 ms".to_owned());
        }
        if !(1..=MAX_SESSIONS_PER_USER_LIMIT).contains(&self.max_sessions_per_user) {
            return Err(format!(
                "max_sessions_per_user: must be within 1..={MAX_SESSIONS_PER_USER_LIMIT}"
            ));
        }
        Ok(())
    }

    /// The cap as adapters apply it: never below one session.
    pub(crate) fn cap(&self) -> usize {
        self.max_sessions_per_user.max(1) as usize
    }

    pub(crate) fn idle_ms(&self) -> i64 {
        duration_ms(self.idle_timeout)
    }

    pub(crate) fn absolute_ms(&self) -> i64 {
        duration_ms(self.absolute_lifetime)
    }

    /// When a session created at `created_ms` and last seen at `last_seen_ms` dies.
    pub(crate) fn expiry_ms(&self, created_ms: i64, last_seen_ms: i64) -> i64 {
        (last_seen_ms + self.idle_ms()).min(created_ms + self.absolute_ms())
    }
}

/// The answer of a token bucket: whether this request may pass, and if not, how long until one
/// token is back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    pub allowed: bool,
    /// 0 when allowed.
    pub retry_after_ms: u64,
    /// Whole tokens left after this call; 0 when refused or in debt.
    pub remaining: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or did not answer in time.
    #[error("session store unavailable: {0}")]
    Unavailable(String),
    /// The caller passed an id, name or value the store refuses.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The store answered with data this code did not write.
    #[error("unexpected data in the session store: {0}")]
    Corrupt(String),
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Creates a session; returns the clear token `<user_id>.<sid>.<secret>` (shown once) and
    /// the record. When the user already holds [`SessionPolicy::max_sessions_per_user`] live
    /// sessions, the ones that would expire soonest end in the same step.
    async fn create(&self, user_id: &str, staff: bool) -> Result<(String, Session), StoreError>;
    /// Looks up a token, refuses it if idle- or absolute-expired, and touches it (sliding idle
    /// timeout). One round trip on Redis (one Lua script on one slot).
    async fn validate(&self, token: &str) -> Result<Option<Session>, StoreError>;
    /// [`validate`](Self::validate) and `cost` tokens from the session's own rate-limit bucket,
    /// as one atomic step (one round trip on Redis): the gateway's sign-in for each request.
    /// `cost` (>= 1) is the request at hand plus requests a gateway admitted from its validation
    /// cache since its last call: when the bucket holds `cost` tokens they are taken; otherwise
    /// the call is refused and `cost - 1` tokens are still taken, into debt if need be but never
    /// below `-capacity` (see [`polygate_kit::auth::TokenVerifier::verify_metered`]).
    async fn validate_metered(
        &self,
        token: &str,
        capacity: u32,
        refill_per_sec: f64,
        cost: u32,
    ) -> Result<Option<(Session, RateDecision)>, StoreError>;
    /// Ends the session with this public id (`<user_id>.<sid>`); `false` when there was no live
    /// one (or the id is malformed).
    async fn revoke(&self, session_id: &str) -> Result<bool, StoreError>;
    /// Ends the session of this token (logout); `false` for an unknown or wrong token.
    async fn revoke_token(&self, token: &str) -> Result<bool, StoreError>;
    /// Ends every session of a user; returns how many live ones ended.
    async fn revoke_all(&self, user_id: &str) -> Result<u64, StoreError>;
    /// Live sessions of many users in one store call (one pipeline on a standalone Redis,
    /// concurrent per-user scripts on a cluster). Used by the dataloader. Users without
    /// sessions may be missing from the map.
    async fn sessions_of_users(
        &self,
        user_ids: &[String],
    ) -> Result<HashMap<String, Vec<Session>>, StoreError>;
    /// Sets one attribute of a live session, leaving the rest of it alone. `false` when there
    /// is no such live session; `InvalidInput` for a bad name, an oversized value, or a session
    /// already holding [`MAX_ATTRIBUTES`] others. Does not touch the session.
    async fn set_attribute(
        &self,
        session_id: &str,
        name: &str,
        value: &str,
    ) -> Result<bool, StoreError>;
    /// Removes one attribute; `true` when a live session had it.
    async fn remove_attribute(&self, session_id: &str, name: &str) -> Result<bool, StoreError>;
    /// The attributes of a live session; empty for an unknown or dead one.
    async fn attributes(&self, session_id: &str) -> Result<HashMap<String, String>, StoreError>;
    /// Takes `cost` tokens from the bucket `key` (at most `capacity` tokens, refilled at
    /// `refill_per_sec`). A bucket nobody uses is forgotten once it would be full again.
    /// `cost` (>= 1) is the request at hand plus requests a gateway admitted from its local copy
    /// of the bucket since its last call, with the semantics of
    /// [`validate_metered`](Self::validate_metered): taken when the bucket holds that many;
    /// otherwise refused, and `cost - 1` taken anyway, into debt no deeper than `-capacity`.
    async fn rate_limit(
        &self,
        key: &str,
        capacity: u32,
        refill_per_sec: f64,
        cost: u32,
    ) -> Result<RateDecision, StoreError>;
    async fn ping(&self) -> Result<(), StoreError>;
    fn engine(&self) -> &'static str;
}

/// The parts of a well-formed token `<user_id>.<sid>.<secret>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenParts<'a> {
    pub user_id: &'a str,
    pub sid: &'a str,
    pub secret: &'a str,
}

impl TokenParts<'_> {
    /// The public id of the session this token is for.
    pub fn session_id(&self) -> String {
        session_id(self.user_id, self.sid)
    }
}

/// Splits a token; `None` when malformed. User ids may contain dots, sids and secrets never
/// do, so the token is split from the right.
pub fn parse_token(token: &str) -> Option<TokenParts<'_>> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let (rest, secret) = token.rsplit_once('.')?;
    let (user_id, sid) = rest.rsplit_once('.')?;
    (is_valid_user_id(user_id) && is_lower_hex(sid, SID_LEN) && is_lower_hex(secret, SECRET_LEN))
        .then_some(TokenParts {
            user_id,
            sid,
            secret,
        })
}

/// Splits a public session id `<user_id>.<sid>`; `None` when malformed.
pub fn parse_session_id(id: &str) -> Option<(&str, &str)> {
    let (user_id, sid) = id.rsplit_once('.')?;
    (is_valid_user_id(user_id) && is_lower_hex(sid, SID_LEN)).then_some((user_id, sid))
}

/// Public session ids are `<user_id>.<sid>` with a 32-hex-character `sid`.
pub fn is_valid_session_id(id: &str) -> bool {
    parse_session_id(id).is_some()
}

pub(crate) fn session_id(user_id: &str, sid: &str) -> String {
    format!("{user_id}.{sid}")
}

/// A fresh token secret: 256 bits from the thread-local CSPRNG, lowercase hex.
pub(crate) fn new_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// A fresh random session id part: 128 bits, lowercase hex.
pub(crate) fn new_sid() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

pub(crate) fn token(user_id: &str, sid: &str, secret: &str) -> String {
    format!("{user_id}.{sid}.{secret}")
}

/// The only form of a token's secret a store keeps: SHA-256, lowercase hex.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// User ids: 1..=128 of `A-Z a-z 0-9 _ - . @ :`. Braces are excluded because the Redis adapter
/// puts the user id inside a `{…}` cluster hash tag.
pub fn is_valid_user_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_USER_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@' | b':'))
}

pub(crate) fn check_user_id(id: &str) -> Result<(), StoreError> {
    if is_valid_user_id(id) {
        Ok(())
    } else {
        Err(StoreError::InvalidInput(format!(
            "user id must be 1..={MAX_USER_ID_LEN} characters of A-Z a-z 0-9 _ - . @ :"
        )))
    }
}

pub(crate) fn check_attribute_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_ATTRIBUTE_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidInput(format!(
            "attribute names are 1..={MAX_ATTRIBUTE_NAME_LEN} characters of A-Z a-z 0-9 _ - . :"
        )))
    }
}

pub(crate) fn check_attribute_value(value: &str) -> Result<(), StoreError> {
    if value.len() <= MAX_ATTRIBUTE_VALUE_LEN {
        Ok(())
    } else {
        Err(StoreError::InvalidInput(format!(
            "attribute values are at most {MAX_ATTRIBUTE_VALUE_LEN} bytes"
        )))
    }
}

pub(crate) fn too_many_attributes() -> StoreError {
    StoreError::InvalidInput(format!(
        "a session holds at most {MAX_ATTRIBUTES} attributes"
    ))
}

/// Rate-limit keys: 1..=256 bytes, no braces (the Redis adapter wraps the key in a `{…}` hash
/// tag), no whitespace or control characters; a positive capacity and refill rate.
pub(crate) fn check_rate_limit(
    key: &str,
    capacity: u32,
    refill_per_sec: f64,
) -> Result<(), StoreError> {
    let key_ok = !key.is_empty()
        && key.len() <= MAX_RATE_KEY_LEN
        && key
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'{' | b'}'));
    if !key_ok {
        return Err(StoreError::InvalidInput(format!(
            "rate-limit keys are 1..={MAX_RATE_KEY_LEN} printable ASCII characters without braces"
        )));
    }
    check_bucket(capacity, refill_per_sec)
}

/// A token bucket needs at least one token and a positive, finite refill rate.
pub(crate) fn check_bucket(capacity: u32, refill_per_sec: f64) -> Result<(), StoreError> {
    if capacity == 0 || !refill_per_sec.is_finite() || refill_per_sec <= 0.0 {
        return Err(StoreError::InvalidInput(
            "a bucket needs a capacity >= 1 and a positive, finite refill rate".to_owned(),
        ));
    }
    Ok(())
}

/// A metered call takes at least one token (the request at hand).
pub(crate) fn check_cost(cost: u32) -> Result<(), StoreError> {
    if cost == 0 {
        return Err(StoreError::InvalidInput(
            "a metered call costs at least 1 token".to_owned(),
        ));
    }
    Ok(())
}

/// One step of a token bucket holding `tokens` (already refilled), shared by the adapters (the
/// Redis scripts do the same arithmetic in Lua): takes `cost` tokens when there are that many,
/// else refuses and charges `cost - 1` (requests admitted earlier), no deeper than `-capacity`.
/// Returns the decision and the tokens left.
pub(crate) fn take_tokens(
    tokens: f64,
    capacity: u32,
    per_ms: f64,
    cost: u32,
) -> (RateDecision, f64) {
    let cost = f64::from(cost);
    if tokens >= cost {
        let left = tokens - cost;
        let decision = RateDecision {
            allowed: true,
            retry_after_ms: 0,
            remaining: left.floor() as u32,
        };
        return (decision, left);
    }
    let left = (tokens - (cost - 1.0)).max(-f64::from(capacity));
    let decision = RateDecision {
        allowed: false,
        retry_after_ms: ((1.0 - left) / per_ms).ceil() as u64,
        remaining: 0,
    };
    (decision, left)
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(duration_ms)
        .unwrap_or_default()
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// Builds the reported record from the millisecond times adapters keep.
pub(crate) fn session_from_ms(
    user_id: &str,
    sid: &str,
    staff: bool,
    created_ms: i64,
    last_seen_ms: i64,
    expires_ms: i64,
) -> Session {
    Session {
        id: session_id(user_id, sid),
        user_id: user_id.to_owned(),
        staff,
        created_at: created_ms.div_euclid(1000),
        last_seen_at: last_seen_ms.div_euclid(1000),
        expires_at: expires_ms.div_euclid(1000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_carries_user_and_sid_and_splits_from_the_right() {
        let secret = new_secret();
        let sid = new_sid();
        let token = token("u.with.dots@x", &sid, &secret);
        let parts = parse_token(&token).expect("well-formed");
        assert_eq!(parts.user_id, "u.with.dots@x");
        assert_eq!(parts.sid, sid);
        assert_eq!(parts.secret, secret);
        assert_eq!(parts.session_id(), format!("u.with.dots@x.{sid}"));
        assert_eq!(
            parse_session_id(&parts.session_id()),
            Some(("u.with.dots@x", sid.as_str()))
        );
        assert_eq!(secret_hash(&secret).len(), 64);
        assert_ne!(secret_hash(&secret), secret);
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        let sid = "a".repeat(SID_LEN);
        let secret = "b".repeat(SECRET_LEN);
        for bad in [
            String::new(),
            secret.clone(),
            format!("{sid}.{secret}"),
            format!(".{sid}.{secret}"),
            format!("u}}{{.{sid}.{secret}"),
            format!("u.{}.{secret}", "A".repeat(SID_LEN)),
            format!("u.{sid}.{}", "g".repeat(SECRET_LEN)),
            format!("u.{sid}.{secret}0"),
            format!("u.{sid}0.{secret}"),
            format!("{}.{sid}.{secret}", "u".repeat(MAX_USER_ID_LEN + 1)),
        ] {
            assert_eq!(parse_token(&bad), None, "{bad:?}");
        }
        assert!(parse_token(&format!("u.{sid}.{secret}")).is_some());
    }

    #[test]
    fn user_ids_with_hash_tag_braces_are_refused() {
        assert!(is_valid_user_id("u_42"));
        assert!(is_valid_user_id("4b8f-uuid:x@y.z"));
        assert!(!is_valid_user_id("u}{"));
        assert!(!is_valid_user_id(""));
        assert!(!is_valid_user_id(&"a".repeat(129)));
    }

    #[test]
    fn rate_limit_keys_and_parameters_are_checked() {
        assert!(check_rate_limit("ip:2001:db8::1", 10, 1.0).is_ok());
        assert!(check_rate_limit("", 10, 1.0).is_err());
        assert!(check_rate_limit("a{b}", 10, 1.0).is_err());
        assert!(check_rate_limit("a b", 10, 1.0).is_err());
        assert!(check_rate_limit("k", 0, 1.0).is_err());
        assert!(check_rate_limit("k", 1, 0.0).is_err());
        assert!(check_rate_limit("k", 1, f64::NAN).is_err());
    }

    #[test]
    fn a_policy_out_of_range_names_its_setting() {
        assert_eq!(SessionPolicy::default().check(), Ok(()));
        let zero_cap = SessionPolicy {
            max_sessions_per_user: 0,
            ..SessionPolicy::default()
        };
        assert!(
            zero_cap
                .check()
                .unwrap_err()
                .starts_with("max_sessions_per_user")
        );
        let huge_cap = SessionPolicy {
            max_sessions_per_user: MAX_SESSIONS_PER_USER_LIMIT + 1,
            ..SessionPolicy::default()
        };
        assert!(
            huge_cap
                .check()
                .unwrap_err()
                .starts_with("max_sessions_per_user")
        );
        let no_idle = SessionPolicy {
            idle_timeout: Duration::ZERO,
            ..SessionPolicy::default()
        };
        assert!(no_idle.check().unwrap_err().starts_with("idle_timeout"));
    }

    #[test]
    fn expiry_is_capped_by_the_absolute_lifetime() {
        let policy = SessionPolicy {
            idle_timeout: Duration::from_secs(10),
            absolute_lifetime: Duration::from_secs(15),
            ..SessionPolicy::default()
        };
        assert_eq!(policy.expiry_ms(0, 0), 10_000);
        assert_eq!(policy.expiry_ms(0, 8_000), 15_000);
    }
}
