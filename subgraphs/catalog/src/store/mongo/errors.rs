//! Driver errors mapped onto [`StoreError`], and the transaction loop every multi-document
//! write runs in.

use mongodb::error::{
    Error, ErrorKind, TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT, WriteFailure,
};

use crate::store::StoreError;

/// Whole transactions tried before a write gives up (a concurrent writer of the same product or
/// of the outbox counter makes the server abort one side with `TransientTransactionError`).
pub const MAX_TRANSACTION_ATTEMPTS: usize = 8;
/// Commits retried when the outcome is unknown (the driver allows committing again).
pub const MAX_COMMIT_ATTEMPTS: usize = 3;

/// A failure inside a transaction body: the driver's (maybe retryable) or a verdict of ours.
#[derive(Debug)]
pub enum TxError {
    Mongo(Error),
    Store(StoreError),
}

impl From<Error> for TxError {
    fn from(e: Error) -> Self {
        TxError::Mongo(e)
    }
}

impl From<StoreError> for TxError {
    fn from(e: StoreError) -> Self {
        TxError::Store(e)
    }
}

impl From<TxError> for StoreError {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Mongo(e) => from_mongo(e),
            TxError::Store(e) => e,
        }
    }
}

/// The server's error code, if the error carries one.
pub fn code(e: &Error) -> Option<i32> {
    match e.kind.as_ref() {
        ErrorKind::Command(c) => Some(c.code),
        ErrorKind::Write(WriteFailure::WriteError(w)) => Some(w.code),
        ErrorKind::Write(WriteFailure::WriteConcernError(w)) => Some(w.code),
        ErrorKind::InsertMany(m) => m
            .write_errors
            .as_ref()
            .and_then(|errors| errors.first().map(|w| w.code)),
        _ => None,
    }
}

pub const DUPLICATE_KEY: i32 = 11000;

pub fn is_duplicate_key(e: &Error) -> bool {
    code(e) == Some(DUPLICATE_KEY)
}

/// Whether the whole transaction may be run again.
pub fn is_transient(e: &Error) -> bool {
    e.contains_label(TRANSIENT_TRANSACTION_ERROR)
}

pub fn is_unknown_commit(e: &Error) -> bool {
    e.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT)
}

/// Classifies a driver error.
pub fn from_mongo(e: Error) -> StoreError {
    if is_duplicate_key(&e) {
        return StoreError::Conflict(e.to_string());
    }
    match e.kind.as_ref() {
        ErrorKind::Io(_)
        | ErrorKind::ServerSelection { .. }
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. }
        | ErrorKind::Shutdown => StoreError::Unavailable(e.to_string()),
        // NotWritablePrimary, interrupted at shutdown, exceeded time limit: retryable by nature.
        _ if matches!(
            code(&e),
            Some(10107 | 11600 | 11602 | 13435 | 189 | 91 | 50)
        ) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        _ if is_transient(&e) => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Other(e.to_string()),
    }
}

/// Waits before transaction attempt `attempt` (2, 3, …): a random part of 5 ms × 2^(attempt-2),
/// capped at 320 ms, so writers in *other* processes that conflicted with this one on the same
/// document do not collide again in lockstep.
pub async fn back_off(attempt: usize) {
    use rand::Rng as _;
    let ceiling_ms = (5u64 << (attempt.saturating_sub(2)).min(6)).min(320);
    let wait_ms = rand::rng().random_range(ceiling_ms / 2..=ceiling_ms);
    tokio::time::sleep(std::time::Duration::from_millis(wait_ms)).await;
}

/// Runs `$body` (an expression of type `Result<T, TxError>` that uses `&mut $session`) in a
/// multi-document transaction on `$store.client`, after the transactions before it from this
/// store have finished: retried whole (after a jittered back-off) on a transient error, its
/// commit retried when the outcome is unknown, aborted on any other failure.
macro_rules! in_transaction {
    ($store:expr, |$session:ident| $body:expr) => {{
        use $crate::store::mongo::errors::{
            MAX_COMMIT_ATTEMPTS, MAX_TRANSACTION_ATTEMPTS, TxError, from_mongo, is_transient,
            is_unknown_commit,
        };
        // One transaction at a time from this store (see `MongoStore::transactions`): queued
        // here, not aborted by the server, and never interleaved on a server without isolation.
        let _turn = $store.transactions.lock().await;
        let mut attempt = 0;
        loop {
            attempt += 1;
            if attempt > 1 {
                $crate::store::mongo::errors::back_off(attempt).await;
            }
            let mut $session = $store.client.start_session().await.map_err(from_mongo)?;
            $session.start_transaction().await.map_err(from_mongo)?;
            let outcome: Result<_, TxError> = async { $body }.await;
            match outcome {
                Ok(value) => {
                    let mut commit = $session.commit_transaction().await;
                    for _ in 1..MAX_COMMIT_ATTEMPTS {
                        match &commit {
                            Err(e) if is_unknown_commit(e) => {
                                commit = $session.commit_transaction().await
                            }
                            _ => break,
                        }
                    }
                    match commit {
                        Ok(()) => break Ok(value),
                        Err(e) if is_transient(&e) && attempt < MAX_TRANSACTION_ATTEMPTS => {
                            continue;
                        }
                        Err(e) => break Err(from_mongo(e)),
                    }
                }
                Err(TxError::Mongo(e))
                    if is_transient(&e) && attempt < MAX_TRANSACTION_ATTEMPTS =>
                {
                    let _ = $session.abort_transaction().await;
                    continue;
                }
                Err(e) => {
                    let _ = $session.abort_transaction().await;
                    break Err($crate::store::StoreError::from(e));
                }
            }
        }
    }};
}

pub(crate) use in_transaction;
