//! What the schema, the followers and the commands do with a store and an embedder: ingest a
//! document (store it, chunk it, embed the chunks, index them), search, find similar documents,
//! and catch up on pending documents.
//!
//! Non-obvious: a search returns documents, not chunks. The store is asked for three chunks per
//! wanted document and the best chunk of each document is kept; when fewer documents come back
//! than wanted while the store had more chunks to give, it is asked again for four times as many
//! (bounded by [`MAX_CHUNKS_ASKED`]). One long document cannot crowd out the others that way.

use std::collections::HashMap;
use std::sync::Arc;

use crate::domain::{Clock, Document, DocumentId, Filter, NewDocument, SearchText, chunk};
use crate::embed::{EmbedError, Embedder, normalize};
use crate::store::{ChunkHit, ChunkPoint, Exactness, PutOutcome, SearchStore, StoreError};

/// Most chunks one search asks the store for.
pub const MAX_CHUNKS_ASKED: usize = 600;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no document {0}")]
    NotFound(DocumentId),
}

/// A stored document, and whether its current version made it into the index now.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub document: Document,
    /// Why it is still pending (the embedder failed); the pending indexer retries it.
    pub pending_because: Option<EmbedError>,
}

/// One document found, with the chunk that matched best.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub document: DocumentId,
    pub chunk: ChunkHit,
}

#[derive(Clone)]
pub struct SearchService {
    pub store: Arc<dyn SearchStore>,
    pub embedder: Arc<dyn Embedder>,
    pub clock: Arc<dyn Clock>,
}

impl SearchService {
    pub fn new(
        store: Arc<dyn SearchStore>,
        embedder: Arc<dyn Embedder>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            embedder,
            clock,
        }
    }

    /// Stores `doc` and indexes it unless that version is indexed already. An embedder failure
    /// leaves the document stored and pending (not an error); a store failure is one.
    pub async fn ingest(&self, doc: &NewDocument) -> Result<Ingested, ServiceError> {
        let outcome = self.store.put_document(doc, self.clock.now_ms()).await?;
        let mut document = outcome.into_document();
        if document.is_indexed() {
            return Ok(Ingested {
                document,
                pending_because: None,
            });
        }
        match self.index(&document, None).await {
            Ok(true) => {
                document.indexed_version = Some(document.version);
                Ok(Ingested {
                    document,
                    pending_because: None,
                })
            }
            // Changed again meanwhile: the newer write indexes its own version.
            Ok(false) => Ok(Ingested {
                document,
                pending_because: None,
            }),
            Err(ServiceError::Embed(e)) => Ok(Ingested {
                document,
                pending_because: Some(e),
            }),
            Err(e) => Err(e),
        }
    }

    /// Stores `doc` without indexing it (the seed, when no model is installed, and bulk loads
    /// that index afterwards).
    pub async fn store_only(&self, doc: &NewDocument) -> Result<PutOutcome, ServiceError> {
        Ok(self.store.put_document(doc, self.clock.now_ms()).await?)
    }

    /// Chunks, embeds and writes `document`'s current version into `collection` (the alias when
    /// `None`). False when the document changed or went away meanwhile.
    pub async fn index(
        &self,
        document: &Document,
        collection: Option<&str>,
    ) -> Result<bool, ServiceError> {
        let chunks = chunk(document.body.as_str());
        let inputs = chunks
            .iter()
            .map(|c| c.embedding_input(document.title.as_str()))
            .collect();
        let vectors = self.embedder.embed(inputs).await?;
        let points: Vec<ChunkPoint> = chunks
            .into_iter()
            .zip(vectors)
            .map(|(c, vector)| ChunkPoint {
                index: c.index,
                text: c.text,
                vector,
            })
            .collect();
        Ok(self
            .store
            .index_document(collection, &document.id, document.version, &points)
            .await?)
    }

    /// Deletes a document and its chunks; false when there was none.
    pub async fn delete(&self, id: &DocumentId) -> Result<bool, ServiceError> {
        Ok(self.store.delete_document(id, self.clock.now_ms()).await?)
    }

    /// The `first` documents nearest `text` that pass `filter`, best first.
    pub async fn search(
        &self,
        text: &SearchText,
        filter: &Filter,
        first: usize,
    ) -> Result<Vec<Hit>, ServiceError> {
        let timer = crate::metrics::QUERY_SECONDS
            .with_label_values(&["search", if filter.is_empty() { "false" } else { "true" }])
            .start_timer();
        let vector = self
            .embedder
            .embed(vec![text.as_str().to_owned()])
            .await?
            .pop()
            .ok_or_else(|| EmbedError::Failed("no vector for the query".into()))?;
        let hits = self.nearest_documents(&vector, filter, first, None).await;
        timer.observe_duration();
        hits
    }

    /// The `first` documents most like `id` (the mean of its chunks' vectors), itself excluded.
    pub async fn similar(&self, id: &DocumentId, first: usize) -> Result<Vec<Hit>, ServiceError> {
        let _timer = crate::metrics::QUERY_SECONDS
            .with_label_values(&["similar", "false"])
            .start_timer();
        let chunks = self.store.chunks_of(id).await?;
        if chunks.is_empty() {
            return Err(ServiceError::NotFound(id.clone()));
        }
        let dims = chunks[0].vector.len();
        let mut mean = vec![0.0f32; dims];
        for c in &chunks {
            mean.iter_mut().zip(&c.vector).for_each(|(m, x)| *m += x);
        }
        normalize(&mut mean);
        self.nearest_documents(&mean, &Filter::default(), first, Some(id))
            .await
    }

    async fn nearest_documents(
        &self,
        vector: &[f32],
        filter: &Filter,
        first: usize,
        except: Option<&DocumentId>,
    ) -> Result<Vec<Hit>, ServiceError> {
        let mut asked = (first * 3).min(MAX_CHUNKS_ASKED);
        loop {
            let chunks = self
                .store
                .nearest_chunks(vector, filter, asked, Exactness::Approximate)
                .await?;
            let exhausted = chunks.len() < asked;
            let hits = best_per_document(chunks, except);
            if hits.len() >= first || exhausted || asked >= MAX_CHUNKS_ASKED {
                return Ok(hits.into_iter().take(first).collect());
            }
            asked = (asked * 4).min(MAX_CHUNKS_ASKED);
        }
    }

    /// Indexes up to `limit` pending documents; returns how many it indexed. Stops at the first
    /// embedder failure (the model is missing, or overloaded), leaving the rest pending.
    pub async fn index_pending(&self, limit: usize) -> Result<usize, ServiceError> {
        let pending = self.store.pending_documents(limit).await?;
        let mut indexed = 0;
        for document in &pending {
            if self.index(document, None).await? {
                indexed += 1;
            }
        }
        Ok(indexed)
    }
}

/// The best chunk of each document, in score order.
fn best_per_document(chunks: Vec<ChunkHit>, except: Option<&DocumentId>) -> Vec<Hit> {
    let mut seen: HashMap<DocumentId, ()> = HashMap::new();
    let mut hits = Vec::new();
    // `chunks` is best first, so the first chunk of a document is its best.
    for chunk in chunks {
        if Some(&chunk.document) == except || seen.insert(chunk.document.clone(), ()).is_some() {
            continue;
        }
        hits.push(Hit {
            document: chunk.document.clone(),
            chunk,
        });
    }
    hits
}
