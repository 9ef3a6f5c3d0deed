//! In-flight de-duplication for in-process subgraph calls, the same rule Hive Router applies to
//! its HTTP executor: identical queries (same body, same identity headers) that overlap in time
//! share one execution. Mutations never share (the router marks them `dedupe = false`).
//!
//! Without it the in-process transport would do more work than HTTP under identical concurrent
//! queries, which the router coalesces for HTTP subgraphs by default.

use std::collections::HashMap;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use bytes::Bytes;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

/// What one execution produces: the response body, or why there is none.
pub type Outcome = Result<Bytes, String>;

type SharedCall = Shared<BoxFuture<'static, Outcome>>;

#[derive(Default)]
pub struct InFlight {
    calls: Mutex<HashMap<u64, SharedCall>>,
}

/// The identity of a call: its GraphQL body and the identity headers it carries.
pub fn fingerprint(body: &[u8], headers: &http::HeaderMap) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    for name in polygate_kit::auth::IDENTITY_HEADERS {
        headers.get(name).map(|v| v.as_bytes()).hash(&mut hasher);
    }
    hasher.finish()
}

impl InFlight {
    /// Runs `call`, or joins the identical call already running under `key`.
    pub async fn run<F>(&self, key: u64, call: F) -> Outcome
    where
        F: Future<Output = Outcome> + Send + 'static,
    {
        let (shared, leader) = {
            let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
            match calls.get(&key) {
                Some(running) => (running.clone(), false),
                None => {
                    let shared = call.boxed().shared();
                    calls.insert(key, shared.clone());
                    (shared, true)
                }
            }
        };
        let outcome = shared.await;
        if leader {
            self.calls
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&key);
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn overlapping_identical_calls_run_once_and_later_ones_run_again() {
        let inflight = Arc::new(InFlight::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let call = |runs: Arc<AtomicUsize>| async move {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok(Bytes::from_static(b"{}"))
        };
        let joined = futures::future::join_all((0..8).map(|_| {
            let inflight = inflight.clone();
            let runs = runs.clone();
            async move { inflight.run(7, call(runs)).await }
        }))
        .await;
        assert!(joined.iter().all(|o| o.as_deref() == Ok(&b"{}"[..])));
        assert_eq!(runs.load(Ordering::SeqCst), 1);

        inflight.run(7, call(runs.clone())).await.unwrap();
        assert_eq!(
            runs.load(Ordering::SeqCst),
            2,
            "a finished call is not reused"
        );
    }

    #[test]
    fn the_fingerprint_depends_on_body_and_identity() {
        let mut alice = http::HeaderMap::new();
        alice.insert(polygate_kit::auth::USER_HEADER, "alice".parse().unwrap());
        let mut bob = http::HeaderMap::new();
        bob.insert(polygate_kit::auth::USER_HEADER, "bob".parse().unwrap());
        assert_eq!(fingerprint(b"q", &alice), fingerprint(b"q", &alice));
        assert_ne!(fingerprint(b"q", &alice), fingerprint(b"q", &bob));
        assert_ne!(fingerprint(b"q", &alice), fingerprint(b"p", &alice));
    }
}
