//! The Qdrant adapter's chunk collections: conditional batch upserts, deletes by filter, and
//! filtered, quantized searches with rescoring.

use qdrant_client::qdrant::{
    Condition, CountPointsBuilder, DeletePointsBuilder, Filter as QFilter, PointStruct,
    QuantizationSearchParamsBuilder, QueryPointsBuilder, Range, ScrollPointsBuilder,
    SearchParamsBuilder, SetPayloadPointsBuilder, UpsertPointsBuilder,
};

use super::payload::{
    ChunkPayload, document_point, from_payload, parse_point_id, point_id, to_payload, uuid_of,
    uuid_text,
};
use super::{QdrantStore, from_qdrant};
use crate::domain::{DocumentId, Filter, MAX_CHUNKS, Source, Tags, Title};
use crate::store::{ChunkHit, ChunkPoint, Exactness, StoreError, StoredChunk};

/// Points per upsert request: a long document's chunks go in a few requests of bounded size.
pub const UPSERT_BATCH: usize = 64;
/// What the int8 search asks for beyond `limit` before rescoring with the originals.
pub const OVERSAMPLING: f64 = 2.0;

fn range_lte(field: &str, value: u64) -> Condition {
    Condition::range(
        field,
        Range {
            lte: Some(value as f64),
            ..Range::default()
        },
    )
}

/// Our filter as Qdrant's: every condition must hold, each on an indexed payload field.
pub fn to_filter(filter: &Filter) -> Option<QFilter> {
    if filter.is_empty() {
        return None;
    }
    let mut must: Vec<Condition> = filter
        .tags
        .iter()
        .map(|t| Condition::matches("tags", t.as_str().to_owned()))
        .collect();
    if let Some(source) = &filter.source {
        must.push(Condition::matches("source", source.as_str().to_owned()));
    }
    if let Some(after) = filter.created_after {
        must.push(Condition::range(
            "created_at",
            Range {
                gt: Some(after as f64),
                ..Range::default()
            },
        ));
    }
    Some(QFilter::must(must))
}

/// The values of a dense vector read back.
fn dense(vector: qdrant_client::qdrant::vector_output::Vector) -> Option<Vec<f32>> {
    match vector {
        qdrant_client::qdrant::vector_output::Vector::Dense(d) => Some(d.data),
        _ => None,
    }
}

impl QdrantStore {
    pub(super) async fn delete_chunks(
        &self,
        collection: &str,
        filter: QFilter,
    ) -> Result<(), StoreError> {
        self.client
            .delete_points(
                DeletePointsBuilder::new(collection)
                    .points(filter)
                    .wait(true),
            )
            .await
            .map_err(from_qdrant)?;
        Ok(())
    }

    pub(super) async fn index(
        &self,
        collection: Option<&str>,
        id: &DocumentId,
        version: u64,
        chunks: &[ChunkPoint],
    ) -> Result<bool, StoreError> {
        let Some((doc, _)) = self.get_document(id).await? else {
            return Ok(false);
        };
        if doc.version != version {
            return Ok(false);
        }
        let target = self.target(collection);
        let mut points = Vec::with_capacity(chunks.len());
        for chunk in chunks {
            let payload = ChunkPayload {
                doc_id: id.to_string(),
                chunk_index: chunk.index,
                text: chunk.text.clone(),
                title: doc.title.as_str().into(),
                source: doc.source.as_str().into(),
                tags: doc.tags.as_strings(),
                created_at: doc.created_at,
                version,
            };
            points.push(PointStruct::new(
                id.point(chunk.index).to_string(),
                chunk.vector.clone(),
                to_payload(&payload)?,
            ));
        }
        for batch in points.chunks(UPSERT_BATCH) {
            self.client
                .upsert_points(
                    UpsertPointsBuilder::new(&target, batch.to_vec())
                        .wait(true)
                        // Never overwrite a newer version's chunk written by a racing indexer.
                        .update_filter(QFilter::must([range_lte("version", version)])),
                )
                .await
                .map_err(from_qdrant)?;
        }
        // The chunks beyond the new count, of this version or older: no orphans.
        self.delete_chunks(
            &target,
            QFilter::must([
                Condition::matches("doc_id", id.to_string()),
                Condition::range(
                    "chunk_index",
                    Range {
                        gte: Some(chunks.len() as f64),
                        ..Range::default()
                    },
                ),
                range_lte("version", version),
            ]),
        )
        .await?;
        if collection.is_none() {
            let mut done = qdrant_client::Payload::new();
            done.insert("indexed_version", version as i64);
            done.insert("pending", false);
            self.client
                .set_payload(
                    SetPayloadPointsBuilder::new(self.documents(), done)
                        .points_selector(QFilter::must([
                            Condition::has_id([point_id(&document_point(id))]),
                            Condition::matches("version", version as i64),
                        ]))
                        .wait(true),
                )
                .await
                .map_err(from_qdrant)?;
        }
        Ok(true)
    }

    pub(super) async fn nearest(
        &self,
        vector: &[f32],
        filter: &Filter,
        limit: usize,
        exactness: Exactness,
    ) -> Result<Vec<ChunkHit>, StoreError> {
        let params = SearchParamsBuilder::default()
            .hnsw_ef(self.ef_search)
            .exact(exactness == Exactness::Exact)
            .quantization(
                QuantizationSearchParamsBuilder::default()
                    .ignore(exactness == Exactness::Exact)
                    .rescore(true)
                    .oversampling(OVERSAMPLING),
            );
        let mut query = QueryPointsBuilder::new(self.alias())
            .query(vector.to_vec())
            .limit(limit as u64)
            .params(params)
            .with_payload(true);
        if let Some(f) = to_filter(filter) {
            query = query.filter(f);
        }
        let found = self.client.query(query).await.map_err(from_qdrant)?;
        found
            .result
            .into_iter()
            .map(|point| {
                let payload: ChunkPayload = from_payload(point.payload)?;
                let id = uuid_text(&point.id).unwrap_or_default();
                Ok(ChunkHit {
                    id: parse_point_id(&id)?,
                    document: DocumentId::parse(&payload.doc_id)
                        .map_err(|e| super::payload::corrupt("doc_id", e))?,
                    index: payload.chunk_index,
                    score: point.score,
                    text: payload.text,
                })
            })
            .collect()
    }

    pub(super) async fn stored_chunks(
        &self,
        id: &DocumentId,
    ) -> Result<Vec<StoredChunk>, StoreError> {
        let page = self
            .client
            .scroll(
                ScrollPointsBuilder::new(self.alias())
                    .filter(QFilter::must([Condition::matches(
                        "doc_id",
                        id.to_string(),
                    )]))
                    .limit(MAX_CHUNKS as u32)
                    .with_payload(true)
                    .with_vectors(true),
            )
            .await
            .map_err(from_qdrant)?;
        let mut chunks = page
            .result
            .into_iter()
            .map(|point| {
                let vector = point
                    .vectors
                    .as_ref()
                    .and_then(|v| v.get_vector())
                    .and_then(dense)
                    .unwrap_or_default();
                let point_text = uuid_text(&point.id).unwrap_or_default();
                let p: ChunkPayload = from_payload(point.payload)?;
                let bad = |e: crate::domain::InvalidInput| super::payload::corrupt("chunk", e);
                Ok(StoredChunk {
                    id: parse_point_id(&point_text)?,
                    document: DocumentId::parse(&p.doc_id).map_err(bad)?,
                    index: p.chunk_index,
                    text: p.text,
                    title: Title::parse(&p.title).map_err(bad)?,
                    source: Source::parse(&p.source).map_err(bad)?,
                    tags: Tags::parse(&p.tags).map_err(bad)?,
                    created_at: p.created_at,
                    version: p.version,
                    vector,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        chunks.sort_by_key(|c| c.index);
        Ok(chunks)
    }

    /// `n` stored vectors from a point id chosen by `seed` onwards (wrapping to the start).
    pub(super) async fn sample(&self, n: usize, seed: u64) -> Result<Vec<Vec<f32>>, StoreError> {
        let mut vectors = Vec::with_capacity(n);
        let start = uuid_of("sample", &seed.to_string());
        for offset in [Some(start), None] {
            if vectors.len() >= n {
                break;
            }
            let mut scroll = ScrollPointsBuilder::new(self.alias())
                .limit((n - vectors.len()) as u32)
                .with_payload(false)
                .with_vectors(true);
            if let Some(offset) = &offset {
                scroll = scroll.offset(point_id(offset));
            }
            let page = self.client.scroll(scroll).await.map_err(from_qdrant)?;
            vectors.extend(
                page.result
                    .into_iter()
                    .filter_map(|p| dense(p.vectors?.get_vector()?)),
            );
        }
        Ok(vectors)
    }

    pub(super) async fn count(
        &self,
        collection: &str,
        filter: Option<QFilter>,
    ) -> Result<u64, StoreError> {
        let mut count = CountPointsBuilder::new(collection).exact(true);
        if let Some(f) = filter {
            count = count.filter(f);
        }
        let answer = self.client.count(count).await.map_err(from_qdrant)?;
        Ok(answer.result.map_or(0, |r| r.count))
    }
}
