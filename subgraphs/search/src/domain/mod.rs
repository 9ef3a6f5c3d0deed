//! The search model: value types that validate on construction, so a document, a query or a
//! filter that reaches the store is always well formed. One file per concept.

mod chunking;
mod clock;
mod document;
mod query;

pub use chunking::{CHUNK_OVERLAP_WORDS, CHUNK_WORDS, Chunk, MAX_CHUNKS, chunk};
pub use clock::{Clock, FixedClock, SystemClock};
pub use document::{
    Body, Document, DocumentId, Language, NewDocument, PointId, Source, Tag, Tags, Title,
};
pub use query::{Filter, MAX_FIRST, MAX_QUERY_BYTES, SearchText, first};

/// A value that failed validation; `field` names the input field for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidInput {
    pub field: &'static str,
    pub reason: String,
}

/// `Err(InvalidInput { field, reason })`: the one way validation fails.
pub(crate) fn invalid<T>(
    field: &'static str,
    reason: impl Into<String>,
) -> Result<T, InvalidInput> {
    Err(InvalidInput {
        field,
        reason: reason.into(),
    })
}
