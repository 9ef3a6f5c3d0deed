//! The embedded store's documents: the source-of-truth rows, tombstones and followers' cursors.

use sqlx::Row;

use super::EmbeddedStore;
use super::rows::{DOCUMENT_COLUMNS, document, from_sqlx, tags_json};
use crate::domain::{Document, DocumentId, NewDocument};
use crate::store::{Change, DocumentPage, PutOutcome, StoreError};

impl EmbeddedStore {
    pub(super) async fn put(
        &self,
        doc: &NewDocument,
        now_ms: i64,
    ) -> Result<PutOutcome, StoreError> {
        let hash = doc.content_hash();
        let mut tx = self.write_tx().await?;
        let existing = sqlx::query(&format!(
            "SELECT {DOCUMENT_COLUMNS}, content_hash FROM documents WHERE id = ?"
        ))
        .bind(doc.id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        let (version, created_at, indexed_version) = match &existing {
            Some(row) => {
                let stored = document(row)?;
                let stored_hash: String = row.try_get("content_hash").map_err(from_sqlx)?;
                if stored_hash == hash {
                    return Ok(PutOutcome::Unchanged(stored));
                }
                (
                    stored.version + 1,
                    stored.created_at,
                    stored.indexed_version,
                )
            }
            None => (1, now_ms, None),
        };
        sqlx::query(
            "INSERT INTO documents (id, title, body, source, tags, language, version, content_hash,
                                    created_at, updated_at, indexed_version)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET
                title = excluded.title, body = excluded.body, source = excluded.source,
                tags = excluded.tags, language = excluded.language, version = excluded.version,
                content_hash = excluded.content_hash, updated_at = excluded.updated_at",
        )
        .bind(doc.id.as_str())
        .bind(doc.title.as_str())
        .bind(doc.body.as_str())
        .bind(doc.source.as_str())
        .bind(tags_json(&doc.tags))
        .bind(doc.language.as_str())
        .bind(version as i64)
        .bind(&hash)
        .bind(created_at)
        .bind(now_ms)
        .bind(indexed_version.map(|v| v as i64))
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        sqlx::query("DELETE FROM tombstones WHERE id = ?")
            .bind(doc.id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        tx.commit().await.map_err(from_sqlx)?;
        let stored = Document {
            id: doc.id.clone(),
            title: doc.title.clone(),
            body: doc.body.clone(),
            source: doc.source.clone(),
            tags: doc.tags.clone(),
            language: doc.language.clone(),
            version,
            created_at,
            updated_at: now_ms,
            indexed_version,
        };
        Ok(if existing.is_some() {
            PutOutcome::Changed(stored)
        } else {
            PutOutcome::Created(stored)
        })
    }

    pub(super) async fn by_ids(&self, ids: &[DocumentId]) -> Result<Vec<Document>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = ids.iter().map(DocumentId::as_str).collect();
        let rows = sqlx::query(&format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents
             WHERE id IN (SELECT value FROM json_each(?))"
        ))
        .bind(serde_json::to_string(&ids).unwrap_or_default())
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        rows.iter().map(document).collect()
    }

    /// Pages in id order; the cursor is the last id of the page before.
    pub(super) async fn list(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<DocumentPage, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id > ? ORDER BY id LIMIT ?"
        ))
        .bind(cursor.unwrap_or(""))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        let documents = rows.iter().map(document).collect::<Result<Vec<_>, _>>()?;
        let next = (documents.len() == limit)
            .then(|| documents.last().map(|d| d.id.to_string()))
            .flatten();
        Ok(DocumentPage { documents, next })
    }

    pub(super) async fn pending(&self, limit: usize) -> Result<Vec<Document>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents
             WHERE indexed_version IS NULL OR indexed_version <> version
             ORDER BY updated_at LIMIT ?"
        ))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        rows.iter().map(document).collect()
    }

    pub(super) async fn changes(
        &self,
        since_ms: i64,
        limit: usize,
    ) -> Result<Vec<Change>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, 0 AS deleted, updated_at AS at FROM documents WHERE updated_at >= ?1
             UNION ALL
             SELECT id, 1, deleted_at FROM tombstones WHERE deleted_at >= ?1
             ORDER BY at, id LIMIT ?2",
        )
        .bind(since_ms)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id").map_err(from_sqlx)?;
                let id = DocumentId::parse(&id).map_err(|e| super::rows::corrupt("id", e))?;
                let deleted: i64 = row.try_get("deleted").map_err(from_sqlx)?;
                Ok(if deleted == 1 {
                    Change::Deleted(id)
                } else {
                    Change::Written(id)
                })
            })
            .collect()
    }

    pub(super) async fn read_cursor(&self, name: &str) -> Result<u64, StoreError> {
        let position: Option<i64> =
            sqlx::query_scalar("SELECT position FROM cursors WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(from_sqlx)?;
        Ok(position.unwrap_or(0) as u64)
    }

    pub(super) async fn write_cursor(&self, name: &str, position: u64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cursors (name, position) VALUES (?, ?)
             ON CONFLICT (name) DO UPDATE SET position = excluded.position",
        )
        .bind(name)
        .bind(position as i64)
        .execute(&self.pool)
        .await
        .map_err(from_sqlx)?;
        Ok(())
    }
}
