//! Row ↔ domain conversions shared by the embedded store's files.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::domain::{Body, Document, DocumentId, Language, Source, Tags, Title};
use crate::store::StoreError;

pub fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("stored {what} does not decode: {e}"))
}

pub fn from_sqlx(err: sqlx::Error) -> StoreError {
    use sqlx::Error as E;
    match &err {
        // SQLite busy / locked and their extended codes.
        E::Database(db)
            if matches!(
                db.code().as_deref(),
                Some("5" | "6" | "261" | "262" | "517" | "773")
            ) =>
        {
            StoreError::Unavailable(err.to_string())
        }
        E::Io(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => {
            StoreError::Unavailable(err.to_string())
        }
        _ => StoreError::Other(err.to_string()),
    }
}

pub fn tags_json(tags: &Tags) -> String {
    serde_json::to_string(&tags.as_strings()).unwrap_or_else(|_| "[]".into())
}

pub fn tags_from_json(raw: &str) -> Result<Tags, StoreError> {
    let list: Vec<String> = serde_json::from_str(raw).map_err(|e| corrupt("tags", e))?;
    Tags::parse(&list).map_err(|e| corrupt("tags", e))
}

pub fn vector_blob(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn vector_from_blob(blob: &[u8]) -> Vec<f32> {
    blob.chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The columns [`document`] reads, in a SELECT list.
pub const DOCUMENT_COLUMNS: &str =
    "id, title, body, source, tags, language, version, created_at, updated_at, indexed_version";

pub fn document(row: &SqliteRow) -> Result<Document, StoreError> {
    let get = |name: &str| row.try_get::<String, _>(name).map_err(|e| corrupt(name, e));
    let id = DocumentId::parse(&get("id")?).map_err(|e| corrupt("id", e))?;
    let version: i64 = row.try_get("version").map_err(|e| corrupt("version", e))?;
    let indexed: Option<i64> = row
        .try_get("indexed_version")
        .map_err(|e| corrupt("indexed_version", e))?;
    Ok(Document {
        id,
        title: Title::parse(&get("title")?).map_err(|e| corrupt("title", e))?,
        body: Body::parse(&get("body")?).map_err(|e| corrupt("body", e))?,
        source: Source::parse(&get("source")?).map_err(|e| corrupt("source", e))?,
        tags: tags_from_json(&get("tags")?)?,
        language: Language::parse(&get("language")?).map_err(|e| corrupt("language", e))?,
        version: version as u64,
        created_at: row
            .try_get("created_at")
            .map_err(|e| corrupt("created_at", e))?,
        updated_at: row
            .try_get("updated_at")
            .map_err(|e| corrupt("updated_at", e))?,
        indexed_version: indexed.map(|v| v as u64),
    })
}
