//! The embedded store's chunks: replacing a document's chunks, deleting a document everywhere,
//! and searching the active collection.

use std::collections::HashMap;

use sqlx::Row;

use super::EmbeddedStore;
use super::ann::{NewPoint, PointMeta};
use super::rows::{corrupt, from_sqlx, tags_from_json, tags_json, vector_blob, vector_from_blob};
use crate::domain::{DocumentId, Filter, PointId, Source, Title};
use crate::store::{ChunkHit, ChunkPoint, Exactness, IndexStats, StoreError, StoredChunk};

impl EmbeddedStore {
    pub(super) async fn index(
        &self,
        collection: Option<&str>,
        id: &DocumentId,
        version: u64,
        chunks: &[ChunkPoint],
    ) -> Result<bool, StoreError> {
        let through_alias = collection.is_none();
        let target = match collection {
            Some(name) => self.collection(name)?,
            None => self.active()?,
        };
        let dims = target.spec.dimensions as usize;
        if let Some(bad) = chunks.iter().find(|c| c.vector.len() != dims) {
            return Err(StoreError::Other(format!(
                "chunk {} has {} dimensions, the collection {dims}",
                bad.index,
                bad.vector.len()
            )));
        }
        let _writer = self.writer.lock().await;
        let mut tx = self.write_tx().await?;
        let doc = sqlx::query(
            "SELECT title, source, tags, created_at, version FROM documents WHERE id = ?",
        )
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        let Some(doc) = doc else {
            return Ok(false);
        };
        let stored_version: i64 = doc.try_get("version").map_err(from_sqlx)?;
        if stored_version as u64 != version {
            return Ok(false);
        }
        let title: String = doc.try_get("title").map_err(from_sqlx)?;
        let source: String = doc.try_get("source").map_err(from_sqlx)?;
        let tags_raw: String = doc.try_get("tags").map_err(from_sqlx)?;
        let created_at: i64 = doc.try_get("created_at").map_err(from_sqlx)?;
        let source = Source::parse(&source).map_err(|e| corrupt("source", e))?;
        let tags = tags_from_json(&tags_raw)?;

        let old = delete_rows(&mut tx, &target.name, id).await?;
        let mut added = Vec::with_capacity(chunks.len());
        for chunk in chunks {
            let point = id.point(chunk.index);
            let key: i64 = sqlx::query_scalar(
                "INSERT INTO chunks (collection, point_id, doc_id, chunk_index, text, title, source,
                                     tags, created_at, version, vector)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING key",
            )
            .bind(&target.name)
            .bind(point.to_string())
            .bind(id.as_str())
            .bind(chunk.index as i64)
            .bind(&chunk.text)
            .bind(&title)
            .bind(source.as_str())
            .bind(tags_json(&tags))
            .bind(created_at)
            .bind(version as i64)
            .bind(vector_blob(&chunk.vector))
            .fetch_one(&mut *tx)
            .await
            .map_err(from_sqlx)?;
            added.push(NewPoint {
                key: key as u64,
                meta: PointMeta {
                    id: point,
                    document: id.clone(),
                    index: chunk.index,
                    source: source.clone(),
                    tags: tags.clone(),
                    created_at,
                },
                vector: chunk.vector.clone(),
            });
        }
        let seq = bump_seq(&mut tx, &target.name).await?;
        if through_alias {
            sqlx::query("UPDATE documents SET indexed_version = ? WHERE id = ?")
                .bind(version as i64)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?;
        }
        tx.commit().await.map_err(from_sqlx)?;
        target.apply(&old, added, seq)?;
        Ok(true)
    }

    pub(super) async fn delete(&self, id: &DocumentId, now_ms: i64) -> Result<bool, StoreError> {
        let _writer = self.writer.lock().await;
        let collections: Vec<_> = self.state().loaded.values().cloned().collect();
        let mut tx = self.write_tx().await?;
        let existed = sqlx::query("DELETE FROM documents WHERE id = ?")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?
            .rows_affected()
            > 0;
        sqlx::query(
            "INSERT INTO tombstones (id, deleted_at) VALUES (?, ?)
             ON CONFLICT (id) DO UPDATE SET deleted_at = excluded.deleted_at",
        )
        .bind(id.as_str())
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        let mut removed = Vec::new();
        for collection in &collections {
            let keys = delete_rows(&mut tx, &collection.name, id).await?;
            if !keys.is_empty() {
                let seq = bump_seq(&mut tx, &collection.name).await?;
                removed.push((collection.clone(), keys, seq));
            }
        }
        tx.commit().await.map_err(from_sqlx)?;
        for (collection, keys, seq) in removed {
            collection.apply(&keys, Vec::new(), seq)?;
        }
        Ok(existed)
    }

    pub(super) async fn nearest(
        &self,
        vector: &[f32],
        filter: &Filter,
        limit: usize,
        exactness: Exactness,
    ) -> Result<Vec<ChunkHit>, StoreError> {
        let active = self.active()?;
        if vector.len() != active.spec.dimensions as usize {
            return Err(StoreError::Other(format!(
                "query has {} dimensions, the collection {}",
                vector.len(),
                active.spec.dimensions
            )));
        }
        let scored = match exactness {
            Exactness::Approximate => active.nearest(vector, filter, limit, exactness)?,
            // Comparing with every point takes milliseconds: off the async workers.
            Exactness::Exact => {
                let (vector, filter) = (vector.to_vec(), filter.clone());
                tokio::task::spawn_blocking(move || {
                    active.nearest(&vector, &filter, limit, exactness)
                })
                .await
                .map_err(|e| StoreError::Other(format!("exact search panicked: {e}")))??
            }
        };
        if scored.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<i64> = scored.iter().map(|(k, _)| *k as i64).collect();
        let rows = sqlx::query(
            "SELECT key, point_id, doc_id, chunk_index, text FROM chunks
             WHERE key IN (SELECT value FROM json_each(?))",
        )
        .bind(serde_json::to_string(&keys).unwrap_or_default())
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        let mut by_key: HashMap<i64, ChunkHit> = HashMap::with_capacity(rows.len());
        for row in rows {
            let key: i64 = row.try_get("key").map_err(from_sqlx)?;
            by_key.insert(key, hit(&row)?);
        }
        // A point deleted between the graph walk and this read is simply not returned.
        Ok(scored
            .into_iter()
            .filter_map(|(key, score)| {
                by_key.remove(&(key as i64)).map(|mut h| {
                    h.score = score;
                    h
                })
            })
            .collect())
    }

    pub(super) async fn stored_chunks(
        &self,
        id: &DocumentId,
    ) -> Result<Vec<StoredChunk>, StoreError> {
        let active = self.state().active.clone();
        let rows = sqlx::query(
            "SELECT point_id, doc_id, chunk_index, text, title, source, tags, created_at, version,
                    vector
             FROM chunks WHERE collection = ? AND doc_id = ? ORDER BY chunk_index",
        )
        .bind(&active)
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        rows.iter().map(stored_chunk).collect()
    }

    pub(super) async fn read_stats(&self) -> Result<IndexStats, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT count(*) FROM documents) AS documents,
                    (SELECT count(*) FROM documents
                     WHERE indexed_version IS NULL OR indexed_version <> version) AS pending,
                    (SELECT min(updated_at) FROM documents
                     WHERE indexed_version IS NULL OR indexed_version <> version) AS oldest",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(from_sqlx)?;
        let active = self.active()?;
        Ok(IndexStats {
            collection: active.name.clone(),
            documents: row.try_get::<i64, _>("documents").map_err(from_sqlx)? as u64,
            pending: row.try_get::<i64, _>("pending").map_err(from_sqlx)? as u64,
            chunks: active.len() as u64,
            oldest_pending_ms: row.try_get("oldest").map_err(from_sqlx)?,
            graph_memory_bytes: active.memory_bytes() as u64,
        })
    }
}

/// Deletes a document's chunk rows in `collection`; returns their keys.
async fn delete_rows(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    collection: &str,
    id: &DocumentId,
) -> Result<Vec<u64>, StoreError> {
    let keys: Vec<i64> =
        sqlx::query_scalar("DELETE FROM chunks WHERE collection = ? AND doc_id = ? RETURNING key")
            .bind(collection)
            .bind(id.as_str())
            .fetch_all(&mut **tx)
            .await
            .map_err(from_sqlx)?;
    Ok(keys.into_iter().map(|k| k as u64).collect())
}

/// Bumps a collection's `write_seq`; returns the new value.
async fn bump_seq(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    collection: &str,
) -> Result<i64, StoreError> {
    sqlx::query_scalar(
        "UPDATE collections SET write_seq = write_seq + 1 WHERE name = ? RETURNING write_seq",
    )
    .bind(collection)
    .fetch_optional(&mut **tx)
    .await
    .map_err(from_sqlx)?
    .ok_or_else(|| StoreError::NoSuchCollection(collection.to_owned()))
}

fn hit(row: &sqlx::sqlite::SqliteRow) -> Result<ChunkHit, StoreError> {
    let point: String = row.try_get("point_id").map_err(from_sqlx)?;
    let doc: String = row.try_get("doc_id").map_err(from_sqlx)?;
    let index: i64 = row.try_get("chunk_index").map_err(from_sqlx)?;
    Ok(ChunkHit {
        id: PointId::parse(&point).ok_or_else(|| corrupt("point_id", &point))?,
        document: DocumentId::parse(&doc).map_err(|e| corrupt("doc_id", e))?,
        index: index as u32,
        score: 0.0,
        text: row.try_get("text").map_err(from_sqlx)?,
    })
}

pub(super) fn stored_chunk(row: &sqlx::sqlite::SqliteRow) -> Result<StoredChunk, StoreError> {
    let hit = hit(row)?;
    let title: String = row.try_get("title").map_err(from_sqlx)?;
    let source: String = row.try_get("source").map_err(from_sqlx)?;
    let tags: String = row.try_get("tags").map_err(from_sqlx)?;
    let version: i64 = row.try_get("version").map_err(from_sqlx)?;
    let blob: Vec<u8> = row.try_get("vector").map_err(from_sqlx)?;
    Ok(StoredChunk {
        id: hit.id,
        document: hit.document,
        index: hit.index,
        text: hit.text,
        title: Title::parse(&title).map_err(|e| corrupt("title", e))?,
        source: Source::parse(&source).map_err(|e| corrupt("source", e))?,
        tags: tags_from_json(&tags)?,
        created_at: row.try_get("created_at").map_err(from_sqlx)?,
        version: version as u64,
        vector: vector_from_blob(&blob),
    })
}
