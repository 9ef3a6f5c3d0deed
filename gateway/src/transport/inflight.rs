//! In-flight de-duplication for in-process subgraph calls, the rule Hive Router applies to its
//! HTTP executor: identical queries (same body, same identity headers) that overlap in time
//! share one execution. Mutations never share (the router marks them `dedupe = false`).
//!
//! Without it the in-process transport would do more work than HTTP under identical concurrent
//! queries, which the router coalesces for HTTP subgraphs by default.
//!
//! One rule more than the router's: a query joins a running call only if no write (a call the
//! router does not dedupe) has completed through this process since that call started. Else a
//! client that writes and then reads could join a read that began before its write committed
//! and be shown what it just changed, undone (read-your-writes; `gateway/bench/cache`'s mixed
//! run counted 34 such reads in 103 before this rule, 0 after).

use std::collections::HashMap;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

/// What one execution produces: the response body, or why there is none.
pub type Outcome = Result<Bytes, String>;

type SharedCall = Shared<BoxFuture<'static, Outcome>>;

/// Writes completed through this process, by any subgraph's transport: a query may read what a
/// write to another subgraph changed, so one count serves them all.
static WRITES_COMPLETED: AtomicU64 = AtomicU64::new(0);

/// A running call, with the number of writes completed when it started.
struct Running {
    writes_before: u64,
    call: SharedCall,
}

pub struct InFlight {
    calls: Mutex<HashMap<u64, Running>>,
    writes_completed: &'static AtomicU64,
}

impl Default for InFlight {
    fn default() -> Self {
        Self {
            calls: Mutex::default(),
            writes_completed: &WRITES_COMPLETED,
        }
    }
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
    /// Counts a write as completed; call it before the write's response can reach the client.
    pub fn write_completed(&self) {
        self.writes_completed.fetch_add(1, Ordering::SeqCst);
    }

    /// Runs `call`, or joins the identical call already running under `key` when no write has
    /// completed since that one started.
    pub async fn run<F>(&self, key: u64, call: F) -> Outcome
    where
        F: Future<Output = Outcome> + Send + 'static,
    {
        let (shared, _leader) = {
            let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
            let writes = self.writes_completed.load(Ordering::SeqCst);
            match calls.get(&key) {
                // A finished call is never joined: its answer is from before this query began.
                Some(running)
                    if running.writes_before == writes && running.call.peek().is_none() =>
                {
                    (running.call.clone(), None)
                }
                // None running, or it may have read before a write its joiner has seen: a new
                // call takes the key (the older one finishes for those already waiting on it).
                _ => {
                    let shared = call.boxed().shared();
                    let running = Running {
                        writes_before: writes,
                        call: shared.clone(),
                    };
                    calls.insert(key, running);
                    let leader = Leader {
                        calls: &self.calls,
                        key,
                        call: shared.clone(),
                    };
                    (shared, Some(leader))
                }
            }
        };
        shared.await
    }
}

/// The key of a call, held by the caller that started it, released when that caller finishes
/// or is dropped. A client that hangs up drops its caller mid-call; before this guard the entry
/// outlived it, and every later identical query joined its finished answer, however old,
/// until some write came through this process.
struct Leader<'a> {
    calls: &'a Mutex<HashMap<u64, Running>>,
    key: u64,
    call: SharedCall,
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        // A newer call may have taken the key meanwhile; only this one's entry goes.
        if calls
            .get(&self.key)
            .is_some_and(|r| r.call.ptr_eq(&self.call))
        {
            calls.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// With its own count of writes: the process-wide one moves with other tests.
    fn isolated() -> InFlight {
        InFlight {
            calls: Mutex::default(),
            writes_completed: Box::leak(Box::new(AtomicU64::new(0))),
        }
    }

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

    #[tokio::test]
    async fn a_call_started_before_a_write_completed_is_not_joined_after_it() {
        let inflight = Arc::new(isolated());
        let runs = Arc::new(AtomicUsize::new(0));
        let (release, released) = tokio::sync::watch::channel(false);
        let call = |runs: Arc<AtomicUsize>, mut released: tokio::sync::watch::Receiver<bool>| async move {
            let run = runs.fetch_add(1, Ordering::SeqCst);
            released.wait_for(|r| *r).await.unwrap();
            Ok(Bytes::from(format!("run {run}")))
        };
        let before = tokio::spawn({
            let (inflight, runs, released) = (inflight.clone(), runs.clone(), released.clone());
            async move { inflight.run(9, call(runs, released)).await }
        });
        while runs.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        inflight.write_completed();
        let after = tokio::spawn({
            let (inflight, runs, released) = (inflight.clone(), runs.clone(), released.clone());
            async move { inflight.run(9, call(runs, released)).await }
        });
        let joins_after = tokio::spawn({
            let (inflight, runs, released) = (inflight.clone(), runs.clone(), released.clone());
            async move { inflight.run(9, call(runs, released)).await }
        });
        while runs.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        release.send(true).unwrap();
        assert_eq!(before.await.unwrap().unwrap(), "run 0");
        assert_eq!(after.await.unwrap().unwrap(), "run 1");
        assert_eq!(
            joins_after.await.unwrap().unwrap(),
            "run 1",
            "a call after the write joins the one that started after it"
        );
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert!(inflight.calls.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_call_whose_caller_hung_up_is_not_served_to_later_queries() {
        let inflight = Arc::new(isolated());
        let runs = Arc::new(AtomicUsize::new(0));
        let call = |runs: Arc<AtomicUsize>| async move {
            let run = runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(Bytes::from(format!("run {run}")))
        };
        // The caller starts the call, then goes away mid-call (a client that hung up).
        let abandoned = inflight.run(5, call(runs.clone()));
        let _ = tokio::time::timeout(Duration::from_millis(1), abandoned).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(
            inflight.calls.lock().unwrap().is_empty(),
            "the abandoned call's key is released"
        );
        assert_eq!(inflight.run(5, call(runs.clone())).await.unwrap(), "run 1");
        assert_eq!(
            inflight.run(5, call(runs.clone())).await.unwrap(),
            "run 2",
            "each later query runs again"
        );
    }

    #[tokio::test]
    async fn a_finished_call_left_under_its_key_is_not_joined() {
        let inflight = isolated();
        let finished = futures::future::ready(Ok(Bytes::from_static(b"old")))
            .boxed()
            .shared();
        finished.clone().await.unwrap();
        inflight.calls.lock().unwrap().insert(
            3,
            Running {
                writes_before: 0,
                call: finished,
            },
        );
        let fresh = inflight
            .run(3, async { Ok(Bytes::from_static(b"new")) })
            .await;
        assert_eq!(fresh.unwrap(), "new");
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
