//! A short-lived copy of each client address's rate-limit bucket inside one gateway, so an
//! anonymous request usually costs no session-store round trip (and no hop to the stores'
//! runtime).
//!
//! After the store answers for an address, [`ClientMeter`] admits that address's requests for
//! `ttl` (`limits.client_meter_ms`) from a local copy of its bucket
//! ([`polygate_kit::local_bucket`], the same copy the session validation cache keeps of a
//! session's bucket): seeded with the tokens the store said were left, refilled at the bucket's
//! rate, never above its burst, counting what it admits. The first request after `ttl`, or the
//! first the local copy cannot cover, asks the store once with `cost` = the requests admitted
//! here since + 1, so metering stays global and exact over time: billed late, never forgiven. A
//! refusal holds the address off here, without the store, until the store's `retry_after`
//! (however long that is, even past `ttl`): the store would refuse it meanwhile anyway.
//!
//! The price: a copy is never richer than a bucket this gateway alone took every admission
//! from, so one gateway meters exactly, and N gateways let an address through at most
//! N × (burst + per_sec × t) in any t seconds (N × burst at once), billed as debt at their next
//! refreshes (`gateway/README.md`, "the client meter"). `client_meter_ms = 0` is exact.
//!
//! Non-obvious decisions: entries are keyed by the address itself (`IpAddr`, no string built on
//! the hot path) in 32 mutex-guarded shards. Quiet entries are swept only once their local copy
//! has refilled to the burst, so the requests an entry had not billed yet are within what the
//! store would have refilled anyway; only a shard full of live entries drops unbilled ones (and
//! a new address is then metered by the store on every request, as with the meter off).

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use polygate_kit::auth::{RateLimiter, RateVerdict, SessionStoreUnavailable};
use polygate_kit::local_bucket::{BucketShape, LocalBucket};
use polygate_kit::metrics::CacheLookups;

/// Most client addresses one gateway keeps a bucket copy for: ~100 B each, so ~10 MB at most.
pub const MAX_ENTRIES: usize = 100_000;
/// Independent locks; a power of two well above the cores that contend for them.
const SHARDS: usize = 32;
/// `cache` label in `polygate_cache_lookups_total` and `polygate_cache_hit_ratio`: `hit` =
/// answered here (admitted or held off), `miss` = the store asked, `error` = it could not answer.
const CACHE_NAME: &str = "client_meter";

static LOOKUPS: LazyLock<CacheLookups> = LazyLock::new(|| CacheLookups::new(CACHE_NAME));

/// The store key of an address's bucket, shared by every gateway instance.
pub fn store_key(ip: IpAddr) -> String {
    format!("client:{ip}")
}

/// Local copies of client addresses' buckets, each trusted for `ttl` after the store answered.
pub struct ClientMeter {
    ttl: Duration,
    shard_capacity: usize,
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
}

struct Shard {
    entries: HashMap<IpAddr, Entry>,
    /// When quiet entries are next dropped.
    next_sweep: Instant,
}

struct Entry {
    bucket: LocalBucket,
    /// Admitted from `bucket` until then; the first request after it asks the store.
    refresh_at: Instant,
    /// The store refused: held off here until then, without asking it again.
    held_until: Option<Instant>,
}

/// What the meter answers for one request without the store.
enum Local {
    Answered(RateVerdict),
    /// Ask the store, billing `unbilled` requests admitted here earlier.
    Ask {
        unbilled: u32,
    },
}

impl Entry {
    fn answer(&mut self, shape: BucketShape, now: Instant) -> Option<RateVerdict> {
        if let Some(held_until) = self.held_until.filter(|&until| now < until) {
            let wait = held_until - now;
            return Some(RateVerdict {
                allowed: false,
                retry_after_ms: (wait.as_micros().div_ceil(1000) as u64).max(1),
                remaining: 0,
            });
        }
        if now >= self.refresh_at || self.bucket.shape() != shape {
            return None;
        }
        Some(self.bucket.take(1, now)).filter(|verdict| verdict.allowed)
    }

    /// Quiet for a further `ttl` past its refresh, and nothing left that the store would not
    /// have refilled by now.
    fn is_quiet(&self, now: Instant, ttl: Duration) -> bool {
        now >= self.refresh_at + ttl
            && self.held_until.is_none_or(|until| now >= until)
            && self.bucket.is_full_at(now)
    }
}

impl Shard {
    /// Drops quiet entries; when still full, every entry past its refresh. `true` when a new
    /// entry fits.
    fn make_room(&mut self, now: Instant, ttl: Duration, capacity: usize) -> bool {
        if now >= self.next_sweep {
            self.entries.retain(|_, e| !e.is_quiet(now, ttl));
            self.next_sweep = now + ttl;
        }
        if self.entries.len() >= capacity {
            self.entries.retain(|_, e| now < e.refresh_at);
        }
        self.entries.len() < capacity
    }
}

impl ClientMeter {
    /// Trusts each store answer for `ttl` (zero: asks the store on every request), for at most
    /// about `max_entries` addresses.
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        let now = Instant::now();
        ClientMeter {
            ttl,
            shard_capacity: max_entries.div_ceil(SHARDS).max(1),
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        entries: HashMap::new(),
                        next_sweep: now,
                    })
                })
                .collect(),
            hasher: RandomState::new(),
        }
    }

    /// Addresses held.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).entries.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, ip: &IpAddr) -> MutexGuard<'_, Shard> {
        let index = self.hasher.hash_one(ip) as usize % SHARDS;
        lock(&self.shards[index])
    }

    /// The verdict for one request of `ip` under `shape` when this gateway can give it without
    /// the store; `None` means "call [`admit`](Self::admit)". Never waits.
    pub fn admit_now(&self, ip: IpAddr, shape: BucketShape, now: Instant) -> Option<RateVerdict> {
        let verdict = self.shard(&ip).entries.get_mut(&ip)?.answer(shape, now)?;
        LOOKUPS.hit();
        Some(verdict)
    }

    /// The verdict for one request of `ip` under `shape`: from the local copy when it can
    /// answer, otherwise from `store`, billed for the requests admitted here since its last
    /// answer, which then seeds the copy.
    pub async fn admit(
        &self,
        ip: IpAddr,
        shape: BucketShape,
        store: &dyn RateLimiter,
        now: Instant,
    ) -> Result<RateVerdict, SessionStoreUnavailable> {
        let unbilled = match self.lookup(ip, shape, now) {
            Local::Answered(verdict) => {
                LOOKUPS.hit();
                return Ok(verdict);
            }
            Local::Ask { unbilled } => unbilled,
        };
        let cost = unbilled.saturating_add(1);
        let key = store_key(ip);
        match store.take(&key, shape.capacity, shape.per_sec, cost).await {
            Ok(verdict) => {
                LOOKUPS.miss();
                self.fill(ip, shape, &verdict, Instant::now().max(now));
                Ok(verdict)
            }
            Err(e) => {
                LOOKUPS.error();
                self.rebill(ip, unbilled);
                Err(e)
            }
        }
    }

    /// The local answer, or what asking the store takes: the unbilled requests, handed over so
    /// that no two store calls bill them twice.
    fn lookup(&self, ip: IpAddr, shape: BucketShape, now: Instant) -> Local {
        let mut shard = self.shard(&ip);
        let Some(entry) = shard.entries.get_mut(&ip) else {
            return Local::Ask { unbilled: 0 };
        };
        match entry.answer(shape, now) {
            Some(verdict) => Local::Answered(verdict),
            None => Local::Ask {
                unbilled: entry.bucket.take_unbilled(),
            },
        }
    }

    /// Seeds the address's copy with the store's answer at `now`.
    fn fill(&self, ip: IpAddr, shape: BucketShape, verdict: &RateVerdict, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let bucket = LocalBucket::seeded(shape, verdict, now);
        let held_until =
            (!verdict.allowed).then(|| now + Duration::from_millis(verdict.retry_after_ms));
        let refresh_at = now + self.ttl;
        let mut shard = self.shard(&ip);
        if let Some(entry) = shard.entries.get_mut(&ip) {
            // Another answer landed first and requests were admitted from it: keep billing them.
            entry.bucket = bucket.carrying(&entry.bucket);
            entry.refresh_at = refresh_at;
            entry.held_until = held_until;
            return;
        }
        if !shard.make_room(now, self.ttl, self.shard_capacity) {
            return;
        }
        shard.entries.insert(
            ip,
            Entry {
                bucket,
                refresh_at,
                held_until,
            },
        );
    }

    /// The store could not be asked: the requests it was to bill stay unbilled.
    fn rebill(&self, ip: IpAddr, unbilled: u32) {
        if unbilled == 0 {
            return;
        }
        if let Some(entry) = self.shard(&ip).entries.get_mut(&ip) {
            entry.bucket.rebill(unbilled);
        }
    }
}

/// A poisoned shard still holds consistent entries (no multi-step invariant spans a panic
/// point), so it stays usable.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(all(test, feature = "session"))]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use async_trait::async_trait;
    use polygate_session::{SessionAuth, SessionPolicy, store::MemoryStore};

    use super::*;

    /// The session store's rate limiter, recording the cost of every call it is asked, and
    /// failing while `down`.
    struct Counting {
        auth: SessionAuth,
        costs: Mutex<Vec<u32>>,
        down: AtomicBool,
    }

    #[async_trait]
    impl RateLimiter for Counting {
        async fn take(
            &self,
            key: &str,
            capacity: u32,
            per_sec: f64,
            cost: u32,
        ) -> Result<RateVerdict, SessionStoreUnavailable> {
            self.costs.lock().unwrap().push(cost);
            if self.down.load(Ordering::SeqCst) {
                return Err(SessionStoreUnavailable("down".into()));
            }
            self.auth.take(key, capacity, per_sec, cost).await
        }
    }

    /// A meter over a memory store. Time is the meter's argument: `at(ms)` is `ms` after the
    /// test started. The store keeps real time, so buckets here refill slowly enough that the
    /// few real milliseconds a test takes do not move them by a whole token.
    struct Setup {
        meter: ClientMeter,
        store: Counting,
        start: Instant,
    }

    fn setup(ttl_ms: u64, max_entries: usize) -> Setup {
        Setup {
            meter: ClientMeter::new(Duration::from_millis(ttl_ms), max_entries),
            store: Counting {
                auth: SessionAuth(Arc::new(MemoryStore::new(SessionPolicy::default()))),
                costs: Mutex::default(),
                down: AtomicBool::new(false),
            },
            start: Instant::now(),
        }
    }

    fn shape(capacity: u32, per_sec: f64) -> BucketShape {
        BucketShape { capacity, per_sec }
    }

    fn address(i: u32) -> IpAddr {
        IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000_u32 + i))
    }

    impl Setup {
        fn at(&self, ms: u64) -> Instant {
            self.start + Duration::from_millis(ms)
        }

        /// One request of address `i` at `ms`, as the gatekeeper asks: in place first.
        async fn admit(&self, i: u32, shape: BucketShape, ms: u64) -> RateVerdict {
            let now = self.at(ms);
            if let Some(verdict) = self.meter.admit_now(address(i), shape, now) {
                return verdict;
            }
            let admitted = self.meter.admit(address(i), shape, &self.store, now);
            admitted.await.expect("the store answers")
        }

        fn costs(&self) -> Vec<u32> {
            self.store.costs.lock().unwrap().clone()
        }
    }

    #[tokio::test]
    async fn within_the_ttl_an_address_is_admitted_without_a_store_call() {
        let s = setup(1_000, MAX_ENTRIES);
        for ms in [0, 10, 500, 999] {
            assert!(s.admit(1, shape(10, 1.0), ms).await.allowed);
        }
        assert_eq!(s.costs(), [1], "one store call for four requests");
        assert!(
            s.meter
                .admit_now(address(2), shape(10, 1.0), s.at(0))
                .is_none()
        );
    }

    #[tokio::test]
    async fn after_the_ttl_the_store_is_billed_for_every_request_admitted_here() {
        let s = setup(1_000, MAX_ENTRIES);
        let bucket = shape(10, 0.001);
        for _ in 0..4 {
            assert!(s.admit(1, bucket, 0).await.allowed);
        }
        let refreshed = s.admit(1, bucket, 1_500).await;
        assert_eq!(s.costs(), [1, 4], "three local requests + this one");
        assert_eq!(refreshed.remaining, 5, "10 - 1 - 4: {refreshed:?}");
        assert!(s.admit(1, bucket, 1_600).await.allowed);
        assert_eq!(s.costs(), [1, 4], "local again until the next refresh");
    }

    #[tokio::test]
    async fn past_its_burst_an_address_is_refused_by_the_store_and_held_off_until_retry_after() {
        let s = setup(10_000, MAX_ENTRIES);
        let bucket = shape(3, 1.0);
        for _ in 0..3 {
            assert!(s.admit(1, bucket, 0).await.allowed);
        }
        assert_eq!(s.costs(), [1], "the burst of 3: one store call");
        let refused = s.admit(1, bucket, 0).await;
        assert!(!refused.allowed, "{refused:?}");
        assert!(
            (900..=1_000).contains(&refused.retry_after_ms),
            "{refused:?}"
        );
        assert_eq!(
            s.costs(),
            [1, 3],
            "the spent copy asks the store, billing 2 + 1"
        );
        let held = s.admit(1, bucket, 500).await;
        assert!(!held.allowed, "{held:?}");
        assert!((400..=600).contains(&held.retry_after_ms), "{held:?}");
        assert_eq!(s.costs(), [1, 3], "held off without the store");
        assert!(s.admit(1, bucket, 1_100).await.allowed, "one token back");
        assert_eq!(s.costs(), [1, 3], "from the local copy");
    }

    #[tokio::test]
    async fn a_refusal_holds_past_the_ttl_without_asking_the_store() {
        let s = setup(100, MAX_ENTRIES);
        let bucket = shape(2, 0.01); // one token per 100 s
        assert!(s.admit(1, bucket, 0).await.allowed);
        assert!(s.admit(1, bucket, 0).await.allowed);
        assert!(!s.admit(1, bucket, 0).await.allowed);
        assert_eq!(s.costs(), [1, 2]);
        for ms in [50, 5_000, 90_000] {
            let held = s.admit(1, bucket, ms).await;
            assert!(!held.allowed, "{held:?}");
        }
        assert_eq!(s.costs(), [1, 2], "refused here for the store's 100 s");
    }

    #[tokio::test]
    async fn requests_admitted_before_a_store_error_are_billed_at_the_next_answer() {
        let s = setup(1_000, MAX_ENTRIES);
        let bucket = shape(10, 0.001);
        for _ in 0..3 {
            assert!(s.admit(1, bucket, 0).await.allowed);
        }
        s.store.down.store(true, Ordering::SeqCst);
        let failed = s.meter.admit(address(1), bucket, &s.store, s.at(1_500));
        assert!(failed.await.is_err());
        s.store.down.store(false, Ordering::SeqCst);
        let refreshed = s.admit(1, bucket, 1_500).await;
        assert_eq!(
            s.costs(),
            [1, 3, 3],
            "the two local requests are still billed"
        );
        assert_eq!(refreshed.remaining, 6, "10 - 1 - 3: {refreshed:?}");
    }

    #[tokio::test]
    async fn with_a_zero_ttl_every_request_asks_the_store() {
        let s = setup(0, MAX_ENTRIES);
        for _ in 0..3 {
            assert!(s.admit(1, shape(10, 1.0), 0).await.allowed);
        }
        assert_eq!(s.costs(), [1, 1, 1]);
        assert!(s.meter.is_empty());
    }

    #[tokio::test]
    async fn the_meter_holds_at_most_its_bound_and_the_rest_go_to_the_store() {
        let s = setup(10_000, 64);
        for i in 0..300 {
            assert!(s.admit(i, shape(10, 1.0), 0).await.allowed);
        }
        assert!(s.meter.len() <= 64, "{} entries", s.meter.len());
        assert!(s.meter.len() >= 32, "{} entries", s.meter.len());
        let calls = s.costs().len();
        for i in 0..300 {
            assert!(s.admit(i, shape(10, 1.0), 0).await.allowed);
        }
        let asked = s.costs().len() - calls;
        assert_eq!(
            asked,
            300 - s.meter.len(),
            "only addresses the meter holds skip the store"
        );
    }

    #[tokio::test]
    async fn quiet_addresses_are_swept_once_their_copy_is_full_again() {
        let s = setup(100, MAX_ENTRIES);
        let bucket = shape(10, 0.1); // full again 10 s after one request
        for i in 0..50 {
            assert!(s.admit(i, bucket, 0).await.allowed);
        }
        // At 3 s every copy is quiet for more than a further ttl, but still a token short.
        for i in 1_000..2_000 {
            assert!(s.admit(i, bucket, 3_000).await.allowed);
        }
        assert_eq!(
            s.meter.len(),
            1_050,
            "kept: their last request is not refilled"
        );
        // At 12 s the first 50 are full again; the next 1 000 not until 13 s.
        for i in 3_000..4_000 {
            assert!(s.admit(i, bucket, 12_000).await.allowed);
        }
        assert_eq!(s.meter.len(), 2_000, "the 50 quiet addresses are gone");
    }
}
