//! Batches the loads requested at the same moment into one store call: the N representations of
//! one `_entities` call cost one query, not N, and under load many requests share a call.
//!
//! Why not async-graphql's `DataLoader`: it dispatches a batch from a task that sleeps 1 ms on
//! another worker thread. Every request waits that millisecond even on an idle host, and a busy
//! host that takes longer than 1 ms to poll the N sibling resolvers splits them into two store
//! calls (seen in CI).
//!
//! Here a batch closes in two steps, neither on a clock:
//! 1. **Siblings.** The first key of a batch makes its future the batch's leader. The leader
//!    yields to the scheduler until a turn passes in which no key joined (at most
//!    [`MAX_TURNS`]). The futures of one list are polled in one pass before the leader is polled
//!    again (`join_all` and `FuturesUnordered` poll every ready child before re-polling one that
//!    yielded), so siblings always land in the leader's batch, however slow the pass.
//! 2. **Capacity.** The batch then goes at once if fewer than [`MAX_IN_FLIGHT`] loads of this
//!    loader are running. Otherwise it stays open, gathering the keys of concurrent requests,
//!    until a running load ends. So an idle host never waits, and a busy one makes fewer, larger
//!    store calls the busier the store is (group commit, for reads).

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

use async_graphql::dataloader::Loader;
use futures::channel::oneshot;

/// How many scheduler turns a leader waits for more sibling keys before it closes its batch, so
/// a steady stream of concurrent loads cannot hold it open forever.
pub const MAX_TURNS: usize = 8;

/// Loads of one loader running at once; a closed batch beyond this waits for one to end.
///
/// One, measured in the gateway bench at 32 connections: the in-process gateway served 1.14 ×
/// the requests of the `DataLoader` build side by side, where two in flight made smaller
/// batches and served 0.76 × (gateway/README.md, "Batching in the subgraphs"). The price: a
/// slow load holds back the next batch of the same loader (never another loader's) until it
/// ends.
pub const MAX_IN_FLIGHT: usize = 1;

/// A batch this large is dispatched at once, like `DataLoader`'s default.
pub const MAX_KEYS: usize = 1000;

/// What a [`Loader`] can be asked for.
pub trait Key: Send + Sync + Hash + Eq + Clone + 'static {}
impl<K: Send + Sync + Hash + Eq + Clone + 'static> Key for K {}

/// Collects `load_one` calls into batches for one [`Loader`]. Shared by every request: it has
/// no cache, so nothing is ever served stale.
pub struct Batcher<K: Key, L: Loader<K>> {
    shared: Arc<Shared<K, L>>,
}

struct Shared<K: Key, L: Loader<K>> {
    loader: L,
    open: Mutex<Open<K, L::Value, L::Error>>,
}

type Answer<V, E> = Result<Option<V>, E>;
type Waiters<K, V, E> = Vec<(K, oneshot::Sender<Answer<V, E>>)>;

/// The batch being gathered, and how many loads are running.
struct Open<K, V, E> {
    /// Counts taken batches, so a leader only ever closes its own.
    generation: u64,
    keys: Vec<K>,
    distinct: HashSet<K>,
    waiters: Waiters<K, V, E>,
    /// The leader is done waiting for siblings: the batch goes when a load slot is free.
    closed: bool,
    in_flight: usize,
}

/// A batch taken from [`Open`], ready to load.
struct Taken<K, V, E> {
    keys: Vec<K>,
    waiters: Waiters<K, V, E>,
}

impl<K: Key, V, E> Open<K, V, E> {
    /// Takes the batch, claiming a load slot for it.
    fn take(&mut self) -> Taken<K, V, E> {
        self.generation += 1;
        self.closed = false;
        self.in_flight += 1;
        self.distinct.clear();
        Taken {
            keys: std::mem::take(&mut self.keys),
            waiters: std::mem::take(&mut self.waiters),
        }
    }

    /// The closed batch, if one waits and a load slot is free.
    fn take_if_due(&mut self) -> Option<Taken<K, V, E>> {
        (self.closed && !self.waiters.is_empty() && self.in_flight < MAX_IN_FLIGHT)
            .then(|| self.take())
    }
}

impl<K: Key, L: Loader<K>> Batcher<K, L> {
    pub fn new(loader: L) -> Self {
        Self {
            shared: Arc::new(Shared {
                loader,
                open: Mutex::new(Open {
                    generation: 0,
                    keys: Vec::new(),
                    distinct: HashSet::new(),
                    waiters: Vec::new(),
                    closed: false,
                    in_flight: 0,
                }),
            }),
        }
    }

    /// The value for `key` (`None` when the loader has none), loaded in one batch with every
    /// other key asked for at the same moment.
    pub async fn load_one(&self, key: K) -> Result<Option<L::Value>, L::Error> {
        let (answer, answered) = oneshot::channel();
        let leads = {
            let mut open = self.shared.lock();
            if open.distinct.insert(key.clone()) {
                open.keys.push(key.clone());
            }
            open.waiters.push((key, answer));
            if open.keys.len() >= MAX_KEYS {
                let full = open.take();
                drop(open);
                Shared::spawn_load(&self.shared, full);
                None
            } else {
                (open.waiters.len() == 1).then_some(open.generation)
            }
        };
        if let Some(generation) = leads {
            // Closes the batch on drop too: a leader cancelled mid-wait (its client went away)
            // must not strand the other requests' keys in its batch.
            let lead = Lead {
                shared: &self.shared,
                generation,
            };
            lead.wait_for_siblings().await;
        }
        answered
            .await
            .expect("a batch load task ended without answering (it panicked)")
    }
}

impl<K: Key, L: Loader<K>> Shared<K, L> {
    fn lock(&self) -> MutexGuard<'_, Open<K, L::Value, L::Error>> {
        // A panic while holding this lock leaves plain vectors and counters behind, consistent.
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs the load on its own task, so that dropping any one waiter cancels nothing.
    fn spawn_load(shared: &Arc<Self>, batch: Taken<K, L::Value, L::Error>) {
        let slot = Slot(shared.clone());
        // Outside a runtime (it is shutting down) nobody is left to answer.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let loaded = slot.0.loader.load(&batch.keys).await;
            for (key, answer) in batch.waiters {
                let _ = answer.send(match &loaded {
                    Ok(values) => Ok(values.get(&key).cloned()),
                    Err(error) => Err(error.clone()),
                });
            }
            drop(slot);
        });
    }
}

/// A running load's slot. Freed on drop, even if the load panicked, and then starts the batch
/// that was waiting for it.
struct Slot<K: Key, L: Loader<K>>(Arc<Shared<K, L>>);

impl<K: Key, L: Loader<K>> Drop for Slot<K, L> {
    fn drop(&mut self) {
        let next = {
            let mut open = self.0.lock();
            open.in_flight -= 1;
            open.take_if_due()
        };
        if let Some(batch) = next {
            Shared::spawn_load(&self.0, batch);
        }
    }
}

/// The leader of one open batch.
struct Lead<'a, K: Key, L: Loader<K>> {
    shared: &'a Arc<Shared<K, L>>,
    generation: u64,
}

impl<K: Key, L: Loader<K>> Lead<'_, K, L> {
    /// Yields until a turn adds no key to this batch, or it was taken for being full.
    async fn wait_for_siblings(&self) {
        let mut seen = 1;
        for _ in 0..MAX_TURNS {
            tokio::task::yield_now().await;
            let open = self.shared.lock();
            if open.generation != self.generation || open.waiters.len() == seen {
                return;
            }
            seen = open.waiters.len();
        }
    }
}

impl<K: Key, L: Loader<K>> Drop for Lead<'_, K, L> {
    fn drop(&mut self) {
        let due = {
            let mut open = self.shared.lock();
            if open.generation != self.generation {
                return;
            }
            open.closed = true;
            open.take_if_due()
        };
        if let Some(batch) = due {
            Shared::spawn_load(self.shared, batch);
        }
    }
}

#[cfg(test)]
mod tests;
