//! The in-process (L1) response store: moka, bounded by bytes, with versioned tags.
//!
//! Invalidation never scans entries. A global sequence numbers every event; a tag's version is
//! the sequence of its last invalidation, and an entry remembers the sequence read *before* its
//! query ran. An entry is stale when any of its tags was invalidated after that, so a query that
//! raced a write cannot store what it read before the write. Tag versions live in a bounded map
//! too: when one is evicted, the `floor` rises to its version, which conservatively treats every
//! older entry as stale instead of forgetting the invalidation.
//!
//! Checking an entry's tags is one map lookup per tag (a list of 50 users carries 100 of them), so
//! a hit skips it when nothing was invalidated since the entry was last found fresh: every
//! invalidation bumps the `epoch` *after* its tag versions are written, and an entry remembers
//! the epoch read before its last full check.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use moka::sync::Cache;

use super::clock::Clock;
use super::config::Scope;

/// Tag versions kept; each is ~100 bytes.
const MAX_TAG_VERSIONS: u64 = 200_000;

#[derive(Debug)]
pub struct Entry {
    pub body: Bytes,
    pub stored_at_ms: u64,
    pub expires_at_ms: u64,
    /// The sequence read before the query that produced this ran.
    pub seq: u64,
    pub tags: Vec<String>,
    pub scope: Scope,
    /// Metric label: the first type the entry holds.
    pub label: String,
    /// The `ETag` of `body`, computed on first use.
    etag: OnceLock<String>,
    /// The store's epoch read before the last check that found this entry fresh.
    fresh_at_epoch: AtomicU64,
}

impl Entry {
    fn weight(&self) -> u32 {
        let tags: usize = self.tags.iter().map(|t| t.len() + 24).sum();
        u32::try_from(self.body.len() + tags + self.label.len() + 160).unwrap_or(u32::MAX)
    }

    /// Seconds left, for `Cache-Control: max-age`.
    pub fn remaining_secs(&self, now_ms: u64) -> u64 {
        self.expires_at_ms.saturating_sub(now_ms) / 1000
    }

    /// The strong `ETag` of the body: a hash of 16 bytes, so a hit does not hash the body again.
    pub fn etag(&self) -> &str {
        self.etag.get_or_init(|| etag_of(&self.body))
    }
}

/// A strong `ETag` for a response body.
pub fn etag_of(body: &[u8]) -> String {
    use sha2::Digest as _;
    format!("\"{}\"", hex::encode(&sha2::Sha256::digest(body)[..16]))
}

pub enum Lookup {
    Hit(Arc<Entry>),
    Miss,
    /// Found but past its max age (dropped).
    Expired(Arc<Entry>),
    /// Found but one of its tags was invalidated after it was stored (dropped).
    Stale(Arc<Entry>),
}

pub struct ResponseStore {
    entries: Cache<[u8; 32], Arc<Entry>>,
    tags: Cache<String, u64>,
    seq: AtomicU64,
    floor: Arc<AtomicU64>,
    /// Bumped after every change that can make a held entry stale.
    epoch: Arc<AtomicU64>,
    clock: Arc<dyn Clock>,
}

impl ResponseStore {
    pub fn new(max_bytes: u64, clock: Arc<dyn Clock>) -> Self {
        let floor = Arc::new(AtomicU64::new(0));
        let evicted_floor = floor.clone();
        let epoch = Arc::new(AtomicU64::new(0));
        let evicted_epoch = epoch.clone();
        let entries = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|_key: &[u8; 32], entry: &Arc<Entry>| entry.weight())
            .eviction_listener(|_key, entry: Arc<Entry>, cause| {
                if cause.was_evicted() {
                    super::metrics::event("l1", "eviction", &entry.label);
                }
            })
            .build();
        let tags = Cache::builder()
            .max_capacity(MAX_TAG_VERSIONS)
            .eviction_listener(move |_tag, version: u64, cause| {
                if cause.was_evicted() {
                    evicted_floor.fetch_max(version, Ordering::SeqCst);
                    evicted_epoch.fetch_add(1, Ordering::SeqCst);
                }
            })
            .build();
        Self {
            entries,
            tags,
            seq: AtomicU64::new(1),
            floor,
            epoch,
            clock,
        }
    }

    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// The sequence to store an entry with, read before its query runs.
    pub fn sequence(&self) -> u64 {
        self.seq.load(Ordering::SeqCst)
    }

    pub fn get(&self, key: &[u8; 32]) -> Lookup {
        let Some(entry) = self.entries.get(key) else {
            return Lookup::Miss;
        };
        if self.clock.now_ms() >= entry.expires_at_ms {
            self.entries.invalidate(key);
            return Lookup::Expired(entry);
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        if entry.fresh_at_epoch.load(Ordering::SeqCst) != epoch {
            if self.is_stale(&entry) {
                self.entries.invalidate(key);
                return Lookup::Stale(entry);
            }
            entry.fresh_at_epoch.fetch_max(epoch, Ordering::SeqCst);
        }
        Lookup::Hit(entry)
    }

    fn is_stale(&self, entry: &Entry) -> bool {
        entry.seq < self.floor.load(Ordering::SeqCst)
            || entry.tags.iter().any(|tag| {
                self.tags
                    .get(tag)
                    .is_some_and(|version| version > entry.seq)
            })
    }

    /// Stores `body` for `max_age` unless a tag it carries was invalidated since `seq`.
    #[allow(clippy::too_many_arguments)]
    pub fn put(
        &self,
        key: [u8; 32],
        body: Bytes,
        max_age: Duration,
        seq: u64,
        tags: Vec<String>,
        scope: Scope,
        label: String,
    ) -> bool {
        let now = self.clock.now_ms();
        let entry = Entry {
            body,
            stored_at_ms: now,
            expires_at_ms: now.saturating_add(max_age.as_millis() as u64),
            seq,
            tags,
            scope,
            label,
            etag: OnceLock::new(),
            fresh_at_epoch: AtomicU64::new(self.epoch.load(Ordering::SeqCst)),
        };
        if self.is_stale(&entry) {
            return false;
        }
        self.entries.insert(key, Arc::new(entry));
        true
    }

    /// Marks every entry carrying one of `tags` stale; returns the new sequence.
    pub fn invalidate(&self, tags: &[String]) -> u64 {
        let version = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        for tag in tags {
            self.tags.insert(tag.clone(), version);
        }
        self.epoch.fetch_add(1, Ordering::SeqCst);
        version
    }

    /// Marks every entry held now stale (after this instance may have missed invalidations).
    pub fn invalidate_all(&self) {
        let version = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        self.floor.fetch_max(version, Ordering::SeqCst);
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }

    /// Entries held now (moka counts lazily; tests call `run_pending_tasks` first).
    pub fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
