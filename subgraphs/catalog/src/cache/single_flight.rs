//! One loader per key: concurrent callers that miss the same key wait for the first caller's
//! store load instead of each starting their own (stampede protection).
//!
//! Non-obvious: the load is a `Shared` future kept in the map only while the caller that
//! started it is still waiting; any waiter drives it, so a first caller that goes away (its
//! client disconnected) does not strand those that joined. When that first caller goes away its
//! keys leave the map at once (a drop guard), so the load is dropped — and with it the pooled
//! store connection it holds — as soon as no joiner is left. (Removing them only after the
//! load completed leaked one connection per abandoned load: the map kept a future nobody
//! polled, and four of them exhausted the SQLite pool.) A batch registers each of its keys, so
//! a later batch that overlaps joins for the overlap and loads only the rest.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

/// What one shared load yields: the values it found, by key.
pub type Loaded<K, V, E> = Result<Arc<HashMap<K, V>>, E>;
type Flight<K, V, E> = Shared<BoxFuture<'static, Loaded<K, V, E>>>;
/// Running loads by key, each tagged with the id of the call that started it.
type Flights<K, V, E> = HashMap<K, (u64, Flight<K, V, E>)>;

pub struct SingleFlight<K, V, E> {
    flights: Mutex<Flights<K, V, E>>,
    next: std::sync::atomic::AtomicU64,
}

impl<K, V, E> Default for SingleFlight<K, V, E> {
    fn default() -> Self {
        Self {
            flights: Mutex::new(HashMap::new()),
            next: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl<K, V, E> SingleFlight<K, V, E>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
{
    /// The values of `keys`: joined from loads already running, the rest loaded by one call of
    /// `load` (given only the keys nobody is loading). Returns how many keys were joined.
    pub async fn load(
        &self,
        keys: &[K],
        load: impl FnOnce(Vec<K>) -> BoxFuture<'static, Loaded<K, V, E>>,
    ) -> Result<(HashMap<K, V>, usize), E> {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (joined, mine) = {
            let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
            let mut joined: Vec<(K, Flight<K, V, E>)> = Vec::new();
            let mut own: Vec<K> = Vec::new();
            for key in keys {
                match flights.get(key) {
                    Some((_, flight)) => joined.push((key.clone(), flight.clone())),
                    None => own.push(key.clone()),
                }
            }
            let mine = (!own.is_empty()).then(|| {
                let flight = load(own.clone()).shared();
                for key in &own {
                    flights.insert(key.clone(), (id, flight.clone()));
                }
                (own, flight)
            });
            (joined, mine)
        };
        let mut out = HashMap::with_capacity(keys.len());
        if let Some((own, flight)) = mine {
            let registered = Registered {
                flights: &self.flights,
                keys: own,
                id,
            };
            let result = flight.await;
            let own = registered.keys.clone();
            drop(registered);
            let values = result?;
            for key in own {
                if let Some(v) = values.get(&key) {
                    out.insert(key, v.clone());
                }
            }
        }
        let shared = joined.len();
        for (key, flight) in joined {
            let values = flight.await?;
            if let Some(v) = values.get(&key) {
                out.insert(key, v.clone());
            }
        }
        Ok((out, shared))
    }
}

/// The keys one call registered: removed from the map when the call finishes *or is dropped*.
struct Registered<'a, K: Hash + Eq, V, E> {
    flights: &'a Mutex<Flights<K, V, E>>,
    keys: Vec<K>,
    id: u64,
}

impl<K: Hash + Eq, V, E> Drop for Registered<'_, K, V, E> {
    fn drop(&mut self) {
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        for key in &self.keys {
            if flights.get(key).is_some_and(|(owner, _)| *owner == self.id) {
                flights.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_loads_of_one_key_run_once() {
        let flights: Arc<SingleFlight<u32, u32, ()>> = Arc::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(tokio::sync::Notify::new());
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let (flights, calls, gate) = (flights.clone(), calls.clone(), gate.clone());
                tokio::spawn(async move {
                    flights
                        .load(&[7], move |keys| {
                            calls.fetch_add(1, Ordering::SeqCst);
                            async move {
                                gate.notified().await;
                                Ok(Arc::new(keys.into_iter().map(|k| (k, k * 2)).collect()))
                            }
                            .boxed()
                        })
                        .await
                        .unwrap()
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        gate.notify_waiters();
        for task in tasks {
            assert_eq!(task.await.unwrap().0[&7], 14);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    /// Set when dropped: stands for the pooled connection a store load holds.
    struct Held(Arc<std::sync::atomic::AtomicBool>);

    impl Drop for Held {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn a_load_whose_only_caller_went_away_is_dropped_and_forgotten() {
        let flights: SingleFlight<u32, u32, ()> = SingleFlight::default();
        let released = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let held = Held(released.clone());
        let abandoned = flights.load(&[7], move |_| {
            async move {
                let _held = held;
                std::future::pending::<Loaded<u32, u32, ()>>().await
            }
            .boxed()
        });
        // Polled once (the load starts and waits), then dropped, as when a client disconnects.
        assert!(abandoned.now_or_never().is_none());
        assert!(
            released.load(Ordering::SeqCst),
            "the load and what it held were dropped"
        );
        let (values, joined) = flights
            .load(&[7], |keys| {
                async move { Ok(Arc::new(keys.into_iter().map(|k| (k, k + 1)).collect())) }.boxed()
            })
            .await
            .unwrap();
        assert_eq!((values[&7], joined), (8, 0), "a later caller loads afresh");
        assert!(
            flights.flights.lock().unwrap().is_empty(),
            "a finished load leaves the map too"
        );
    }
}
