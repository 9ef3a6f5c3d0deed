//! Behaviour every [`SearchStore`] adapter must show, as plain async checks that panic on
//! failure; each adapter's test file runs every check (see [`search_store_checks!`]).
//!
//! Non-obvious: compiled into the library so integration tests in `tests/` can call it. Vectors
//! are synthetic (deterministic pseudo-random unit vectors of the store's 384 dimensions), so the
//! suite needs no model; the real model's semantics are tested in `tests/semantics.rs`. Every
//! check tags its documents with a tag of its own and filters its searches by it, so checks can
//! share a store without seeing each other's points.

mod chunks;
mod collections;
mod documents;

use polygate_kit::testing::unique_name;
use sha2::{Digest, Sha256};

use super::{ChunkPoint, CollectionSpec, Quantization, SearchStore};
use crate::domain::{
    Body, Document, DocumentId, Filter, Language, NewDocument, Source, Tag, Tags, Title,
};
use crate::embed::normalize;

pub use chunks::{
    a_delete_removes_the_document_and_every_chunk, a_stale_version_is_never_indexed,
    nearest_chunks_come_closest_first_and_honour_every_filter,
    updating_from_five_chunks_to_two_leaves_no_orphans,
};
pub use collections::{
    a_swapped_alias_serves_the_new_collection_and_the_old_one_can_be_dropped, cursors_round_trip,
    ping_succeeds,
};
pub use documents::{
    changes_since_reports_writes_and_deletes, documents_by_ids_and_list_return_exactly_what_exists,
    pending_documents_are_the_unindexed_versions,
    put_creates_then_bumps_the_version_only_on_change,
};

/// Calls `$callback!` with the name of every check, so each adapter's test file turns the list
/// into one test per check and none can be forgotten: `polygate_search::search_store_checks!(on_x);`
#[macro_export]
macro_rules! search_store_checks {
    ($callback:ident) => {
        $callback!(
            put_creates_then_bumps_the_version_only_on_change,
            documents_by_ids_and_list_return_exactly_what_exists,
            pending_documents_are_the_unindexed_versions,
            changes_since_reports_writes_and_deletes,
            updating_from_five_chunks_to_two_leaves_no_orphans,
            a_delete_removes_the_document_and_every_chunk,
            a_stale_version_is_never_indexed,
            nearest_chunks_come_closest_first_and_honour_every_filter,
            a_swapped_alias_serves_the_new_collection_and_the_old_one_can_be_dropped,
            cursors_round_trip,
            ping_succeeds,
        );
    };
}

/// The dimensions every conformance store is opened with.
pub const DIMENSIONS: usize = 384;

/// The spec the harnesses open stores with.
pub fn spec() -> CollectionSpec {
    CollectionSpec {
        m: 16,
        ef_construct: 100,
        ef_search: 64,
        quantization: Quantization::Int8,
        dimensions: DIMENSIONS as u32,
    }
}

/// A deterministic unit vector for `seed`.
pub fn vector(seed: &str) -> Vec<f32> {
    let mut out = Vec::with_capacity(DIMENSIONS);
    let mut counter = 0u32;
    while out.len() < DIMENSIONS {
        let digest = Sha256::digest(format!("{seed}/{counter}").as_bytes());
        for pair in digest.chunks(2) {
            let x = u16::from_le_bytes([pair[0], pair[1]]) as f32 / 65535.0 - 0.5;
            out.push(x);
        }
        counter += 1;
    }
    out.truncate(DIMENSIONS);
    normalize(&mut out);
    out
}

/// `base` moved a little towards `seed`'s vector: close to `base`, different from it.
pub fn near(base: &[f32], seed: &str, amount: f32) -> Vec<f32> {
    let noise = vector(seed);
    let mut out: Vec<f32> = base
        .iter()
        .zip(&noise)
        .map(|(b, n)| b + amount * n)
        .collect();
    normalize(&mut out);
    out
}

/// A check's own tag and id prefix.
pub struct Scope {
    pub tag: Tag,
}

impl Scope {
    pub fn new(check: &str) -> Self {
        let name = unique_name(check).to_lowercase();
        Self {
            tag: Tag::parse(&name).expect("unique names are valid tags"),
        }
    }

    pub fn id(&self, n: &str) -> DocumentId {
        DocumentId::parse(&format!("{}:{n}", self.tag.as_str())).expect("valid id")
    }

    /// A document of this scope with `extra` tags and `words` words of body.
    pub fn doc(&self, n: &str, source: &str, extra: &[&str], words: usize) -> NewDocument {
        let mut tags = vec![self.tag.as_str().to_owned()];
        tags.extend(extra.iter().map(|t| t.to_string()));
        NewDocument {
            id: self.id(n),
            title: Title::parse(&format!("Document {n}")).unwrap(),
            body: Body::parse(
                &(0..words)
                    .map(|i| format!("w{i}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            )
            .unwrap(),
            source: Source::parse(source).unwrap(),
            tags: Tags::parse(&tags).unwrap(),
            language: Language::default(),
        }
    }

    /// Only this scope's points.
    pub fn filter(&self) -> Filter {
        Filter {
            tags: vec![self.tag.clone()],
            ..Filter::default()
        }
    }
}

/// `count` chunks of `doc` whose vectors derive from `seed`.
pub fn chunks_for(seed: &str, count: u32) -> Vec<ChunkPoint> {
    (0..count)
        .map(|i| ChunkPoint {
            index: i,
            text: format!("chunk {i} of {seed}"),
            vector: vector(&format!("{seed}#{i}")),
        })
        .collect()
}

/// Stores and indexes `doc` with `count` chunks from `seed`; returns the stored document.
pub async fn put_indexed(
    store: &dyn SearchStore,
    doc: &NewDocument,
    seed: &str,
    count: u32,
    now_ms: i64,
) -> Document {
    let stored = store
        .put_document(doc, now_ms)
        .await
        .expect("put")
        .into_document();
    assert!(
        store
            .index_document(None, &stored.id, stored.version, &chunks_for(seed, count))
            .await
            .expect("index"),
        "indexing the current version succeeds"
    );
    stored
}
