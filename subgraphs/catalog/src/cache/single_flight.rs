//! One loader per key: concurrent callers that miss the same key wait for the first caller's
//! store load instead of each starting their own (stampede protection).
//!
//! Non-obvious: the load is a `Shared` future kept in the map only while it runs; any waiter
//! drives it, so a first caller that goes away (its client disconnected) does not strand the
//! others. A batch registers each of its keys, so a later batch that overlaps joins for the
//! overlap and loads only the rest.

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
            let result = flight.await;
            {
                let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
                for key in &own {
                    if flights.get(key).is_some_and(|(owner, _)| *owner == id) {
                        flights.remove(key);
                    }
                }
            }
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
}
