//! One vector collection in memory: a usearch HNSW graph over the chunks' vectors, their payload,
//! the original f32 vectors, and posting lists for the filters — the embedded counterpart of a
//! Qdrant collection with payload indexes.
//!
//! Non-obvious: how a filtered search runs depends on how many points pass the filter, like
//! Qdrant's query planner. The candidates are counted first from the posting lists (tags,
//! source) or a scan of the payload (`after` alone); at most [`FULL_SCAN_THRESHOLD`] of them are
//! compared exactly (a few hundred microseconds, and exact), more walk the HNSW graph with the
//! filter as a predicate. A graph walk under a very selective filter finds too few neighbours
//! that pass, which is why the small case must not use it. With `int8` quantization the graph
//! holds 1-byte components and every answer is rescored with the original vectors.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use usearch::{Index, IndexOptions, MetricKind, ScalarKind};

use crate::domain::{DocumentId, Filter, PointId, Source, Tag, Tags};
use crate::embed::dot;
use crate::store::{CollectionSpec, Exactness, Quantization, StoreError};

/// Filters that leave at most this many points are answered by comparing with every one of them
/// (Qdrant's `full_scan_threshold` default is 10 000 KB of vectors, about 6 600 of ours).
pub const FULL_SCAN_THRESHOLD: usize = 5_000;
/// With int8 quantization the graph is asked for this many times the hits, rescored with the
/// originals, and cut to the best (Qdrant's `oversampling`).
pub const OVERSAMPLING: usize = 2;

/// The payload of one point.
#[derive(Debug, Clone)]
pub struct PointMeta {
    pub id: PointId,
    pub document: DocumentId,
    pub index: u32,
    pub source: Source,
    pub tags: Tags,
    pub created_at: i64,
}

/// A point to add: its key (the SQLite row's), payload and vector.
pub struct NewPoint {
    pub key: u64,
    pub meta: PointMeta,
    pub vector: Vec<f32>,
}

pub struct AnnCollection {
    pub name: String,
    pub spec: CollectionSpec,
    inner: RwLock<Inner>,
}

struct Inner {
    index: Index,
    points: HashMap<u64, PointMeta>,
    vectors: HashMap<u64, Box<[f32]>>,
    by_document: HashMap<DocumentId, Vec<u64>>,
    by_tag: HashMap<Tag, HashSet<u64>>,
    by_source: HashMap<Source, HashSet<u64>>,
    /// The collection's `write_seq` these contents reflect.
    seq: i64,
    /// Changed since the index file was last written.
    dirty: bool,
}

/// Concurrent searches and inserts the graph makes room for: each takes a per-thread context, and
/// the async runtime may call from more threads than the machine has cores.
const THREAD_CONTEXTS: usize = 64;

fn reserve(index: &Index, capacity: usize) -> Result<(), StoreError> {
    index
        .reserve_capacity_and_threads(capacity, THREAD_CONTEXTS)
        .map_err(failed)
}

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("hnsw index: {e}"))
}

fn options(spec: &CollectionSpec) -> IndexOptions {
    IndexOptions {
        dimensions: spec.dimensions as usize,
        metric: MetricKind::Cos,
        quantization: match spec.quantization {
            Quantization::None => ScalarKind::F32,
            Quantization::Int8 => ScalarKind::I8,
        },
        connectivity: spec.m as usize,
        expansion_add: spec.ef_construct as usize,
        expansion_search: spec.ef_search as usize,
        multi: false,
    }
}

impl AnnCollection {
    /// An empty collection.
    pub fn new(name: &str, spec: &CollectionSpec) -> Result<Self, StoreError> {
        let index = Index::new(&options(spec)).map_err(failed)?;
        reserve(&index, 1024)?;
        Ok(Self {
            name: name.to_owned(),
            spec: spec.clone(),
            inner: RwLock::new(Inner {
                index,
                points: HashMap::new(),
                vectors: HashMap::new(),
                by_document: HashMap::new(),
                by_tag: HashMap::new(),
                by_source: HashMap::new(),
                seq: 0,
                dirty: false,
            }),
        })
    }

    /// A collection filled with `points` at `seq`. The graph is read from `index_file` when it
    /// was written at this `seq`; otherwise it is built, on every core.
    pub fn load(
        name: &str,
        spec: &CollectionSpec,
        points: Vec<NewPoint>,
        seq: i64,
        index_file: Option<&std::path::Path>,
    ) -> Result<Self, StoreError> {
        let collection = Self::new(name, spec)?;
        {
            let mut inner = collection.write();
            let loaded = index_file.is_some_and(|file| {
                let path = file.to_string_lossy();
                match inner.index.load(&path) {
                    Ok(()) if inner.index.size() == points.len() => true,
                    Ok(()) => {
                        tracing::warn!(collection = name, "index file does not match; rebuilding");
                        false
                    }
                    Err(e) => {
                        tracing::warn!(collection = name, error = %e, "index file unreadable; rebuilding");
                        false
                    }
                }
            });
            if loaded {
                reserve(&inner.index, points.len().max(1024))?;
                inner.index.change_expansion_search(spec.ef_search as usize);
            } else {
                inner.index = Index::new(&options(spec)).map_err(failed)?;
                reserve(&inner.index, points.len().max(1024))?;
                let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
                let per_thread = points.len().div_ceil(threads).max(1);
                let index = &inner.index;
                let errors: Vec<String> = std::thread::scope(|scope| {
                    let handles: Vec<_> = points
                        .chunks(per_thread)
                        .map(|part| {
                            scope.spawn(move || {
                                part.iter()
                                    .find_map(|p| index.add(p.key, &p.vector).err())
                                    .map(|e| e.to_string())
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .filter_map(|h| h.join().ok().flatten())
                        .collect()
                });
                if let Some(e) = errors.first() {
                    return Err(failed(e));
                }
            }
            for point in points {
                inner.remember(point);
            }
            inner.seq = seq;
            inner.dirty = !loaded;
        }
        Ok(collection)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Removes the points `remove` and adds `add`, then records `seq`.
    pub fn apply(&self, remove: &[u64], add: Vec<NewPoint>, seq: i64) -> Result<(), StoreError> {
        let mut inner = self.write();
        for key in remove {
            inner.forget(*key)?;
        }
        let needed = inner.index.size() + add.len();
        if needed > inner.index.capacity() {
            let grown = needed.max(inner.index.capacity() * 2);
            reserve(&inner.index, grown)?;
        }
        for point in add {
            inner.index.add(point.key, &point.vector).map_err(failed)?;
            inner.remember(point);
        }
        inner.seq = seq;
        inner.dirty = true;
        Ok(())
    }

    /// Keys of a document's points.
    pub fn keys_of(&self, document: &DocumentId) -> Vec<u64> {
        self.read()
            .by_document
            .get(document)
            .cloned()
            .unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.read().points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `limit` nearest points passing `filter`: (key, cosine similarity), closest first.
    pub fn nearest(
        &self,
        query: &[f32],
        filter: &Filter,
        limit: usize,
        exactness: Exactness,
    ) -> Result<Vec<(u64, f32)>, StoreError> {
        let inner = self.read();
        let candidates = inner.candidates(filter);
        let small = candidates
            .as_ref()
            .is_some_and(|c| c.len() <= FULL_SCAN_THRESHOLD);
        if exactness == Exactness::Exact || small {
            let keys: Box<dyn Iterator<Item = &u64>> = match &candidates {
                Some(c) => Box::new(c.iter()),
                None => Box::new(inner.vectors.keys()),
            };
            return Ok(top(
                keys.filter_map(|k| inner.vectors.get(k).map(|v| (*k, dot(query, v)))),
                limit,
            ));
        }
        let asked = match self.spec.quantization {
            Quantization::Int8 => limit * OVERSAMPLING,
            Quantization::None => limit,
        };
        let matches = match &candidates {
            None => inner.index.search(query, asked),
            Some(c) => inner
                .index
                .filtered_search(query, asked, |key| c.contains(&key)),
        }
        .map_err(failed)?;
        // Rescore with the originals: exact similarities, and the int8 order corrected.
        Ok(top(
            matches
                .keys
                .iter()
                .filter_map(|k| inner.vectors.get(k).map(|v| (*k, dot(query, v)))),
            limit,
        ))
    }

    /// Up to `n` stored vectors, every `len / n`-th from an offset chosen by `seed`.
    pub fn sample(&self, n: usize, seed: u64) -> Vec<Vec<f32>> {
        let inner = self.read();
        let mut keys: Vec<u64> = inner.vectors.keys().copied().collect();
        keys.sort_unstable();
        if keys.is_empty() || n == 0 {
            return Vec::new();
        }
        let step = (keys.len() / n).max(1);
        let offset = (seed as usize) % step;
        keys.iter()
            .skip(offset)
            .step_by(step)
            .take(n)
            .filter_map(|k| inner.vectors.get(k).map(|v| v.to_vec()))
            .collect()
    }

    /// Writes the graph to `path(seq)` when it changed since the last write; returns the `seq` it
    /// reflects if it wrote.
    pub fn save_if_dirty(
        &self,
        path: impl Fn(i64) -> std::path::PathBuf,
    ) -> Result<Option<i64>, StoreError> {
        // A read lock: searches go on while the file is written, writes wait.
        let inner = self.read();
        if !inner.dirty {
            return Ok(None);
        }
        let seq = inner.seq;
        inner
            .index
            .save(&path(seq).to_string_lossy())
            .map_err(failed)?;
        drop(inner);
        let mut inner = self.write();
        if inner.seq == seq {
            inner.dirty = false;
        }
        Ok(Some(seq))
    }

    /// Writes the graph to `path` whatever its state (snapshots); returns the `seq` it reflects.
    pub fn save_to(&self, path: &std::path::Path) -> Result<i64, StoreError> {
        let inner = self.read();
        inner.index.save(&path.to_string_lossy()).map_err(failed)?;
        Ok(inner.seq)
    }

    /// The collection's `write_seq` the graph reflects.
    pub fn seq(&self) -> i64 {
        self.read().seq
    }

    /// Bytes of memory the graph and its quantized vectors use.
    pub fn memory_bytes(&self) -> usize {
        self.read().index.memory_usage()
    }
}

impl Inner {
    fn remember(&mut self, point: NewPoint) {
        let NewPoint { key, meta, vector } = point;
        self.by_document
            .entry(meta.document.clone())
            .or_default()
            .push(key);
        for tag in meta.tags.iter() {
            self.by_tag.entry(tag.clone()).or_default().insert(key);
        }
        self.by_source
            .entry(meta.source.clone())
            .or_default()
            .insert(key);
        self.vectors.insert(key, vector.into_boxed_slice());
        self.points.insert(key, meta);
    }

    fn forget(&mut self, key: u64) -> Result<(), StoreError> {
        let Some(meta) = self.points.remove(&key) else {
            return Ok(());
        };
        self.index.remove(key).map_err(failed)?;
        self.vectors.remove(&key);
        if let Some(keys) = self.by_document.get_mut(&meta.document) {
            keys.retain(|k| *k != key);
            if keys.is_empty() {
                self.by_document.remove(&meta.document);
            }
        }
        for tag in meta.tags.iter() {
            if let Some(keys) = self.by_tag.get_mut(tag) {
                keys.remove(&key);
            }
        }
        if let Some(keys) = self.by_source.get_mut(&meta.source) {
            keys.remove(&key);
        }
        Ok(())
    }

    /// The keys passing `filter`; `None` when it passes everything.
    fn candidates(&self, filter: &Filter) -> Option<HashSet<u64>> {
        if filter.is_empty() {
            return None;
        }
        let empty = HashSet::new();
        // Start from the smallest posting list, check the rest on the payload.
        let mut lists: Vec<&HashSet<u64>> = filter
            .tags
            .iter()
            .map(|t| self.by_tag.get(t).unwrap_or(&empty))
            .collect();
        if let Some(source) = &filter.source {
            lists.push(self.by_source.get(source).unwrap_or(&empty));
        }
        let passes = |key: &u64| {
            self.points
                .get(key)
                .is_some_and(|m| filter.accepts(&m.source, &m.tags, m.created_at))
        };
        Some(match lists.iter().min_by_key(|l| l.len()) {
            Some(smallest) => smallest.iter().copied().filter(passes).collect(),
            None => self.points.keys().copied().filter(passes).collect(),
        })
    }
}

/// The `limit` highest-scoring pairs, best first.
fn top(scored: impl Iterator<Item = (u64, f32)>, limit: usize) -> Vec<(u64, f32)> {
    let mut all: Vec<(u64, f32)> = scored.collect();
    let by_score = |a: &(u64, f32), b: &(u64, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if all.len() > limit && limit > 0 {
        all.select_nth_unstable_by(limit - 1, by_score);
        all.truncate(limit);
    }
    all.sort_by(by_score);
    all.truncate(limit);
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::normalize;

    fn spec(quantization: Quantization) -> CollectionSpec {
        CollectionSpec {
            m: 16,
            ef_construct: 100,
            ef_search: 64,
            quantization,
            dimensions: 8,
        }
    }

    fn point(key: u64, tag: &str, v: [f32; 8]) -> NewPoint {
        let mut vector = v.to_vec();
        normalize(&mut vector);
        let document = DocumentId::parse(&format!("d{key}")).unwrap();
        NewPoint {
            key,
            meta: PointMeta {
                id: document.point(0),
                document,
                index: 0,
                source: Source::parse("test").unwrap(),
                tags: Tags::parse(&[tag]).unwrap(),
                created_at: key as i64,
            },
            vector,
        }
    }

    #[test]
    fn a_filtered_search_returns_only_passing_points_nearest_first() {
        let c = AnnCollection::new("t", &spec(Quantization::Int8)).unwrap();
        let points = (0..40)
            .map(|k| {
                let x = k as f32;
                point(
                    k,
                    if k % 2 == 0 { "even" } else { "odd" },
                    [1.0, x, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
                )
            })
            .collect();
        c.apply(&[], points, 1).unwrap();
        let mut q = vec![1.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0];
        normalize(&mut q);
        let filter = Filter {
            tags: vec![Tag::parse("even").unwrap()],
            ..Filter::default()
        };
        let hits = c.nearest(&q, &filter, 3, Exactness::Approximate).unwrap();
        assert!(hits.iter().all(|(k, _)| k % 2 == 0), "{hits:?}");
        assert!(hits[0].0 == 2 || hits[0].0 == 4, "{hits:?}");
        assert!(hits.windows(2).all(|w| w[0].1 >= w[1].1));
    }

    #[test]
    fn removed_points_are_never_found_again() {
        let c = AnnCollection::new("t", &spec(Quantization::None)).unwrap();
        c.apply(
            &[],
            vec![point(1, "a", [1.0; 8]), point(2, "a", [0.5; 8])],
            1,
        )
        .unwrap();
        c.apply(&[1], vec![], 2).unwrap();
        let hits = c
            .nearest(&[1.0; 8], &Filter::default(), 5, Exactness::Approximate)
            .unwrap();
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), vec![2]);
        assert_eq!(c.len(), 1);
        assert!(c.keys_of(&DocumentId::parse("d1").unwrap()).is_empty());
    }
}
