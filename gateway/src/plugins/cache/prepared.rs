//! What the cache works out once per operation instead of on every request: the operation's
//! policy (a walk of its selection against the schema) and the key's hash state over its
//! normalised text.
//!
//! The memo is keyed by the client's document and operation name ([`OperationText`], hashed when
//! the engine hands the plugin the request's parameters). The engine normalises each (document,
//! operation name) once per supergraph and plans from that, so the operation behind a text does
//! not change while one supergraph is served; the memo lives in [`Policies`], which is rebuilt
//! with every supergraph. A request without a text (none in its context) is worked out in full.

use std::sync::Arc;

use hive_router::query_planner::ast::operation::OperationDefinition;
use sha2::{Digest, Sha256};

use super::key;
use super::policy::{OperationPolicy, Policies};

/// Operations remembered per supergraph (each ~1 KiB with its types).
pub const MAX_PREPARED: u64 = 10_000;

/// An operation's policy, or why it is not cached, and the start of its cache key.
pub struct Prepared {
    pub decision: Result<Arc<OperationPolicy>, String>,
    pub key_hasher: Sha256,
}

pub type PreparedMemo = moka::sync::Cache<[u8; 32], Arc<Prepared>>;

pub fn memo() -> PreparedMemo {
    moka::sync::Cache::new(MAX_PREPARED)
}

/// The identity of a request's document: SHA-256 of its text and operation name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationText(pub [u8; 32]);

impl OperationText {
    pub fn of(query: &str, operation_name: Option<&str>) -> Self {
        let mut hash = Sha256::new();
        // Length-prefixed, so no (text, name) pair can read as another.
        hash.update((query.len() as u64).to_le_bytes());
        hash.update(query.as_bytes());
        if let Some(name) = operation_name {
            hash.update([1]);
            hash.update(name.as_bytes());
        }
        Self(hash.finalize().into())
    }
}

impl Prepared {
    pub fn of(policies: &Policies, operation: &OperationDefinition) -> Self {
        Self {
            decision: policies.decide(operation).map(Arc::new),
            key_hasher: key::operation_hasher(&operation.to_string()),
        }
    }
}

impl Policies {
    /// `operation`'s [`Prepared`], from the memo when the request's text is known.
    pub fn prepare(
        &self,
        text: Option<OperationText>,
        operation: &OperationDefinition,
    ) -> Arc<Prepared> {
        match text {
            Some(text) => self
                .prepared
                .get_with(text.0, || Arc::new(Prepared::of(self, operation))),
            None => Arc::new(Prepared::of(self, operation)),
        }
    }
}
