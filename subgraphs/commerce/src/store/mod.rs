//! The commerce store port and what its adapters share: the error type, the timeout and metrics
//! wrapper every call goes through, and the mapping from `sqlx` errors.
//!
//! Non-obvious: adapters never return `sqlx::Error`; callers only ever see `Conflict`,
//! `Unavailable` (retryable: connection, pool or timeout trouble) or `Other` (a bug or bad data).

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use polygate_kit::metrics::StoreCallTimer;

use crate::domain::{Email, NewUser, User, UserWithHash};
use crate::ids::UserId;

pub mod conformance;
pub mod postgres;
pub mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Longest a single store call may take before it counts as `Unavailable`.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was violated (for users: the email is taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The store could not be reached or did not answer in time.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a failed query or a row that does not decode.
    #[error("store error: {0}")]
    Other(String),
}

/// Everything the commerce subgraph reads and writes. Users for now; products and orders later.
#[async_trait]
pub trait CommerceStore: Send + Sync {
    /// Inserts a user; `Conflict` when the email (case-insensitively) is taken.
    async fn create_user(&self, new: NewUser) -> Result<User, StoreError>;
    /// The user with this email, with the password hash, for sign-in.
    async fn user_by_email(&self, email: &Email) -> Result<Option<UserWithHash>, StoreError>;
    /// The users among `ids` that exist, in any order, in one query.
    async fn users_by_ids(&self, ids: &[UserId]) -> Result<Vec<User>, StoreError>;
    /// Up to `first` users with ids greater than `after`, ordered by id.
    async fn list_users(&self, first: u32, after: Option<UserId>) -> Result<Vec<User>, StoreError>;
    /// A trivial round trip, for readiness.
    async fn ping(&self) -> Result<(), StoreError>;
    /// `postgres` or `sqlite`: the engine label in metrics and probes.
    fn engine(&self) -> &'static str;
}

/// Runs one store call under [`CALL_TIMEOUT`], records it in the store metrics and maps errors.
pub(crate) async fn instrumented<T>(
    engine: &'static str,
    operation: &'static str,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let timer = StoreCallTimer::start(crate::NAME, engine, operation);
    let result = match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(result) => result,
        Err(_) => Err(StoreError::Unavailable(format!(
            "{engine} {operation} timed out after {CALL_TIMEOUT:?}"
        ))),
    };
    timer.finish(result)
}

/// Classifies a `sqlx` error.
pub(crate) fn from_sqlx(err: sqlx::Error) -> StoreError {
    use sqlx::Error as E;
    match &err {
        E::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        // 57014: statement timeout / cancel; 57P01..03: shutdown; SQLite 5/6: busy / locked.
        E::Database(db)
            if matches!(
                db.code().as_deref(),
                Some("57014" | "57P01" | "57P02" | "57P03" | "5" | "6")
            ) =>
        {
            StoreError::Unavailable(err.to_string())
        }
        E::Io(_) | E::Tls(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => {
            StoreError::Unavailable(err.to_string())
        }
        _ => StoreError::Other(err.to_string()),
    }
}

/// A stored row that fails the domain rules; only a bug or a manual edit produces one.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("corrupt user row: {what}"))
}
