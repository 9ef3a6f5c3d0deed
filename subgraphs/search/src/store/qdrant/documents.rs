//! The Qdrant adapter's documents collection: documents, tombstones and cursors.

use std::collections::HashMap;

use qdrant_client::qdrant::{
    Condition, DeletePointsBuilder, Filter as QFilter, GetPointsBuilder, OrderByBuilder,
    PointStruct, PointsIdsList, ScrollPointsBuilder, UpdateMode, UpsertPointsBuilder, Vector,
};

use super::payload::{
    DocumentPayload, KIND_CURSOR, KIND_DOCUMENT, KIND_TOMBSTONE, TombstonePayload, cursor_point,
    document_of, document_point, from_payload, point_id, to_payload, tombstone_point, uuid_text,
};
use super::{QdrantStore, from_qdrant};
use crate::domain::{Document, DocumentId, NewDocument};
use crate::store::{Change, DocumentPage, PutOutcome, StoreError};

/// Attempts of a conditional write before giving up on a document written concurrently.
const ATTEMPTS: usize = 5;

fn no_vectors() -> HashMap<String, Vector> {
    HashMap::new()
}

#[derive(serde::Serialize, serde::Deserialize)]
struct CursorPayload {
    kind: String,
    name: String,
    position: u64,
}

impl QdrantStore {
    pub(super) async fn get_document(
        &self,
        id: &DocumentId,
    ) -> Result<Option<(Document, String)>, StoreError> {
        let found = self
            .client
            .get_points(
                GetPointsBuilder::new(self.documents(), vec![point_id(&document_point(id))])
                    .with_payload(true),
            )
            .await
            .map_err(from_qdrant)?;
        let Some(point) = found.result.into_iter().next() else {
            return Ok(None);
        };
        let payload: DocumentPayload = from_payload(point.payload)?;
        let hash = payload.content_hash.clone();
        Ok(Some((payload.document()?, hash)))
    }

    pub(super) async fn put(
        &self,
        doc: &NewDocument,
        now_ms: i64,
    ) -> Result<PutOutcome, StoreError> {
        let hash = doc.content_hash();
        for _ in 0..ATTEMPTS {
            let existing = self.get_document(&doc.id).await?;
            let (version, created_at, indexed_version) = match &existing {
                Some((stored, stored_hash)) if *stored_hash == hash => {
                    return Ok(PutOutcome::Unchanged(stored.clone()));
                }
                Some((stored, _)) => (
                    stored.version + 1,
                    stored.created_at,
                    stored.indexed_version,
                ),
                None => (1, now_ms, None),
            };
            let document = Document {
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
            let point = PointStruct::new(
                document_point(&doc.id),
                no_vectors(),
                to_payload(&DocumentPayload::of(&document, &hash))?,
            );
            let mut upsert = UpsertPointsBuilder::new(self.documents(), vec![point]).wait(true);
            upsert = match &existing {
                // Replace only the version read: a concurrent writer makes this a no-op.
                Some((stored, _)) => upsert.update_filter(QFilter::must([Condition::matches(
                    "version",
                    stored.version as i64,
                )])),
                None => upsert.update_mode(UpdateMode::InsertOnly),
            };
            self.client
                .upsert_points(upsert)
                .await
                .map_err(from_qdrant)?;
            if let Some((now, now_hash)) = self.get_document(&doc.id).await?
                && now.version == version
                && now_hash == hash
            {
                self.client
                    .delete_points(
                        DeletePointsBuilder::new(self.documents())
                            .points(PointsIdsList {
                                ids: vec![point_id(&tombstone_point(&doc.id))],
                            })
                            .wait(true),
                    )
                    .await
                    .map_err(from_qdrant)?;
                return Ok(if existing.is_some() {
                    PutOutcome::Changed(document)
                } else {
                    PutOutcome::Created(document)
                });
            }
        }
        Err(StoreError::Unavailable(format!(
            "document {} kept changing under {ATTEMPTS} attempts to write it",
            doc.id
        )))
    }

    pub(super) async fn by_ids(&self, ids: &[DocumentId]) -> Result<Vec<Document>, StoreError> {
        let points = ids
            .iter()
            .map(|id| point_id(&document_point(id)))
            .collect::<Vec<_>>();
        let found = self
            .client
            .get_points(GetPointsBuilder::new(self.documents(), points).with_payload(true))
            .await
            .map_err(from_qdrant)?;
        found.result.into_iter().map(document_of).collect()
    }

    pub(super) async fn list(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<DocumentPage, StoreError> {
        let mut scroll = ScrollPointsBuilder::new(self.documents())
            .filter(QFilter::must([Condition::matches(
                "kind",
                KIND_DOCUMENT.to_owned(),
            )]))
            .limit(limit as u32)
            .with_payload(true);
        if let Some(cursor) = cursor {
            scroll = scroll.offset(point_id(cursor));
        }
        let page = self.client.scroll(scroll).await.map_err(from_qdrant)?;
        let next = uuid_text(&page.next_page_offset);
        let documents = page
            .result
            .into_iter()
            .map(document_of)
            .collect::<Result<_, _>>()?;
        Ok(DocumentPage { documents, next })
    }

    pub(super) async fn pending(&self, limit: usize) -> Result<Vec<Document>, StoreError> {
        let page = self
            .client
            .scroll(
                ScrollPointsBuilder::new(self.documents())
                    .filter(QFilter::must([
                        Condition::matches("kind", KIND_DOCUMENT.to_owned()),
                        Condition::matches("pending", true),
                    ]))
                    .order_by(OrderByBuilder::new("updated_at"))
                    .limit(limit as u32)
                    .with_payload(true),
            )
            .await
            .map_err(from_qdrant)?;
        page.result.into_iter().map(document_of).collect()
    }

    pub(super) async fn changes(
        &self,
        since_ms: i64,
        limit: usize,
    ) -> Result<Vec<Change>, StoreError> {
        use qdrant_client::qdrant::Range;
        let after = |field: &str| {
            Condition::range(
                field,
                Range {
                    gte: Some(since_ms as f64),
                    ..Range::default()
                },
            )
        };
        let written = QFilter::must([
            Condition::matches("kind", KIND_DOCUMENT.to_owned()),
            after("updated_at"),
        ]);
        let deleted = QFilter::must([
            Condition::matches("kind", KIND_TOMBSTONE.to_owned()),
            after("deleted_at"),
        ]);
        let mut changes: Vec<(i64, Change)> = Vec::new();
        for (filter, field) in [(written, "updated_at"), (deleted, "deleted_at")] {
            let page = self
                .client
                .scroll(
                    ScrollPointsBuilder::new(self.documents())
                        .filter(filter)
                        .order_by(OrderByBuilder::new(field))
                        .limit(limit as u32)
                        .with_payload(true),
                )
                .await
                .map_err(from_qdrant)?;
            for point in page.result {
                if field == "updated_at" {
                    let p: DocumentPayload = from_payload(point.payload)?;
                    let doc = p.document()?;
                    changes.push((doc.updated_at, Change::Written(doc.id)));
                } else {
                    let t: TombstonePayload = from_payload(point.payload)?;
                    let id = DocumentId::parse(&t.id)
                        .map_err(|e| super::payload::corrupt("tombstone", e))?;
                    changes.push((t.deleted_at, Change::Deleted(id)));
                }
            }
        }
        changes.sort_by_key(|c| c.0);
        changes.truncate(limit);
        Ok(changes.into_iter().map(|(_, c)| c).collect())
    }

    pub(super) async fn delete(&self, id: &DocumentId, now_ms: i64) -> Result<bool, StoreError> {
        let existed = self.get_document(id).await?.is_some();
        self.client
            .delete_points(
                DeletePointsBuilder::new(self.documents())
                    .points(PointsIdsList {
                        ids: vec![point_id(&document_point(id))],
                    })
                    .wait(true),
            )
            .await
            .map_err(from_qdrant)?;
        let tombstone = TombstonePayload {
            kind: KIND_TOMBSTONE.into(),
            id: id.to_string(),
            deleted_at: now_ms,
        };
        self.client
            .upsert_points(
                UpsertPointsBuilder::new(
                    self.documents(),
                    vec![PointStruct::new(
                        tombstone_point(id),
                        no_vectors(),
                        to_payload(&tombstone)?,
                    )],
                )
                .wait(true),
            )
            .await
            .map_err(from_qdrant)?;
        for collection in self.chunk_collection_names().await? {
            self.delete_chunks(
                &collection,
                QFilter::must([Condition::matches("doc_id", id.to_string())]),
            )
            .await?;
        }
        Ok(existed)
    }

    pub(super) async fn read_cursor(&self, name: &str) -> Result<u64, StoreError> {
        let found = self
            .client
            .get_points(
                GetPointsBuilder::new(self.documents(), vec![point_id(&cursor_point(name))])
                    .with_payload(true),
            )
            .await
            .map_err(from_qdrant)?;
        match found.result.into_iter().next() {
            Some(point) => Ok(from_payload::<CursorPayload>(point.payload)?.position),
            None => Ok(0),
        }
    }

    pub(super) async fn write_cursor(&self, name: &str, position: u64) -> Result<(), StoreError> {
        let payload = CursorPayload {
            kind: KIND_CURSOR.into(),
            name: name.into(),
            position,
        };
        self.client
            .upsert_points(
                UpsertPointsBuilder::new(
                    self.documents(),
                    vec![PointStruct::new(
                        cursor_point(name),
                        no_vectors(),
                        to_payload(&payload)?,
                    )],
                )
                .wait(true),
            )
            .await
            .map_err(from_qdrant)?;
        Ok(())
    }
}
