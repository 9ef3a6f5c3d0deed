//! The session store port: what the schema and the gateway's auth need from a key-value store.
//!
//! Non-obvious decision: a store never sees or keeps a clear token. Adapters receive the clear
//! token only to hash it here ([`token_hash`]); everything persisted is keyed by the SHA-256, so
//! a dump of the store cannot be replayed as a bearer token.

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
/// Length of a session id: 128 random bits, lowercase hex.
pub const SESSION_ID_LEN: usize = 32;
/// Length of a clear token: 256 random bits, lowercase hex.
pub const TOKEN_LEN: usize = 64;

/// One live session as the store reports it. Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub staff: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// `min(last_seen + idle, created + absolute)`: when the session dies unless touched.
    pub expires_at: i64,
}

/// How long sessions live; given to each adapter's constructor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session not validated for this long is dead (sliding).
    pub idle_timeout: Duration,
    /// A session older than this is dead however often it is used.
    pub absolute_lifetime: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_lifetime: Duration::from_secs(12 * 60 * 60),
        }
    }
}

impl SessionPolicy {
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

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or did not answer in time.
    #[error("session store unavailable: {0}")]
    Unavailable(String),
    /// The caller passed an id the store refuses to key on.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The store answered with data this code did not write.
    #[error("unexpected data in the session store: {0}")]
    Corrupt(String),
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Creates a session; returns the clear token (shown once) and the record.
    async fn create(&self, user_id: &str, staff: bool) -> Result<(String, Session), StoreError>;
    /// Looks up a token, refuses it if idle- or absolute-expired, and touches it (sliding idle
    /// timeout). One round trip on Redis (Lua script).
    async fn validate(&self, token: &str) -> Result<Option<Session>, StoreError>;
    async fn revoke(&self, session_id: &str) -> Result<bool, StoreError>;
    async fn revoke_token(&self, token: &str) -> Result<bool, StoreError>;
    async fn revoke_all(&self, user_id: &str) -> Result<u64, StoreError>;
    /// Live sessions of many users in ONE store round trip (pipeline on Redis). Used by the
    /// dataloader. Users without sessions may be missing from the map.
    async fn sessions_of_users(
        &self,
        user_ids: &[String],
    ) -> Result<HashMap<String, Vec<Session>>, StoreError>;
    async fn ping(&self) -> Result<(), StoreError>;
    fn engine(&self) -> &'static str;
}

/// A fresh clear token: 256 bits from the thread-local CSPRNG, lowercase hex.
pub(crate) fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// A fresh session id, independent of the token: 128 random bits, lowercase hex.
pub(crate) fn new_session_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// The only form of a token a store keeps; `None` for a malformed token.
pub fn token_hash(token: &str) -> Option<String> {
    is_lower_hex(token, TOKEN_LEN).then(|| hex::encode(Sha256::digest(token.as_bytes())))
}

/// Session ids are exactly [`SESSION_ID_LEN`] lowercase hex characters.
pub fn is_valid_session_id(id: &str) -> bool {
    is_lower_hex(id, SESSION_ID_LEN)
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
    id: String,
    user_id: String,
    staff: bool,
    created_ms: i64,
    last_seen_ms: i64,
    expires_ms: i64,
) -> Session {
    Session {
        id,
        user_id,
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
    fn tokens_are_64_hex_and_hash_to_a_different_64_hex() {
        let token = new_token();
        let hash = token_hash(&token).expect("well-formed");
        assert_eq!(token.len(), TOKEN_LEN);
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, token);
    }

    #[test]
    fn malformed_tokens_have_no_hash() {
        assert_eq!(token_hash(""), None);
        assert_eq!(token_hash(&"g".repeat(64)), None);
        assert_eq!(token_hash(&"A".repeat(64)), None);
        assert_eq!(token_hash(&"a".repeat(63)), None);
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
    fn expiry_is_capped_by_the_absolute_lifetime() {
        let policy = SessionPolicy {
            idle_timeout: Duration::from_secs(10),
            absolute_lifetime: Duration::from_secs(15),
        };
        assert_eq!(policy.expiry_ms(0, 0), 10_000);
        assert_eq!(policy.expiry_ms(0, 8_000), 15_000);
    }
}
