//! The payloads this adapter writes, as serde structs, and the point ids of documents,
//! tombstones and cursors (UUIDs derived from names, like the chunks').

use qdrant_client::Payload;
use qdrant_client::qdrant::{PointId as QdrantPointId, RetrievedPoint, point_id::PointIdOptions};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::{Body, Document, DocumentId, Language, PointId, Source, Tags, Title};
use crate::store::StoreError;

pub const KIND_DOCUMENT: &str = "document";
pub const KIND_TOMBSTONE: &str = "tombstone";
pub const KIND_CURSOR: &str = "cursor";

/// A UUID from `namespace` and `name` (SHA-256, name-based UUID bits).
pub fn uuid_of(namespace: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{namespace}\u{0}{name}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

pub fn document_point(id: &DocumentId) -> String {
    uuid_of(KIND_DOCUMENT, id.as_str())
}

pub fn tombstone_point(id: &DocumentId) -> String {
    uuid_of(KIND_TOMBSTONE, id.as_str())
}

pub fn cursor_point(name: &str) -> String {
    uuid_of(KIND_CURSOR, name)
}

pub fn point_id(id: &str) -> QdrantPointId {
    QdrantPointId::from(id.to_owned())
}

/// The UUID text of a point id read back.
pub fn uuid_text(id: &Option<QdrantPointId>) -> Option<String> {
    match id.as_ref()?.point_id_options.as_ref()? {
        PointIdOptions::Uuid(u) => Some(u.clone()),
        PointIdOptions::Num(n) => Some(n.to_string()),
    }
}

/// A document point's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocumentPayload {
    pub kind: String,
    pub id: String,
    pub title: String,
    pub body: String,
    pub source: String,
    pub tags: Vec<String>,
    pub language: String,
    pub version: u64,
    pub content_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub indexed_version: Option<u64>,
    /// `indexed_version != version`, kept as a field so "pending" is one indexed condition.
    pub pending: bool,
}

impl DocumentPayload {
    pub fn of(doc: &Document, content_hash: &str) -> Self {
        Self {
            kind: KIND_DOCUMENT.into(),
            id: doc.id.to_string(),
            title: doc.title.as_str().into(),
            body: doc.body.as_str().into(),
            source: doc.source.as_str().into(),
            tags: doc.tags.as_strings(),
            language: doc.language.as_str().into(),
            version: doc.version,
            content_hash: content_hash.into(),
            created_at: doc.created_at,
            updated_at: doc.updated_at,
            indexed_version: doc.indexed_version,
            pending: !doc.is_indexed(),
        }
    }

    pub fn document(&self) -> Result<Document, StoreError> {
        let bad = |e: crate::domain::InvalidInput| corrupt("document", e);
        Ok(Document {
            id: DocumentId::parse(&self.id).map_err(bad)?,
            title: Title::parse(&self.title).map_err(bad)?,
            body: Body::parse(&self.body).map_err(bad)?,
            source: Source::parse(&self.source).map_err(bad)?,
            tags: Tags::parse(&self.tags).map_err(bad)?,
            language: Language::parse(&self.language).map_err(bad)?,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            indexed_version: self.indexed_version,
        })
    }
}

/// A tombstone's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TombstonePayload {
    pub kind: String,
    pub id: String,
    pub deleted_at: i64,
}

/// A chunk point's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChunkPayload {
    pub doc_id: String,
    pub chunk_index: u32,
    pub text: String,
    pub title: String,
    pub source: String,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub version: u64,
}

pub fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("stored {what} does not decode: {e}"))
}

/// A serde struct as a Qdrant payload.
pub fn to_payload(value: &impl Serialize) -> Result<Payload, StoreError> {
    let json = serde_json::to_value(value).map_err(|e| corrupt("payload", e))?;
    Payload::try_from(json).map_err(|e| corrupt("payload", e))
}

/// A point's payload as a serde struct.
pub fn from_payload<T: serde::de::DeserializeOwned>(
    payload: std::collections::HashMap<String, qdrant_client::qdrant::Value>,
) -> Result<T, StoreError> {
    Payload::from(payload)
        .deserialize()
        .map_err(|e| corrupt("payload", e))
}

pub fn document_of(point: RetrievedPoint) -> Result<Document, StoreError> {
    from_payload::<DocumentPayload>(point.payload)?.document()
}

pub fn parse_point_id(text: &str) -> Result<PointId, StoreError> {
    PointId::parse(text).ok_or_else(|| corrupt("point id", text))
}
