//! A short-lived copy of the session store's verdicts inside one gateway, so a signed-in request
//! usually costs no store round trip.
//!
//! After the store validates a token, [`CachingVerifier`] trusts that verdict (the viewer) for
//! `ttl` (`subgraphs.session.validation_cache_ms`). Within it a request is answered here: no
//! touch, no store call. The first request after it refreshes: one metered store call that
//! validates, touches, and bills the session's bucket for every request admitted here since the
//! last refresh plus the one at hand (`cost`), so metering stays global and exact over time.
//! Between refreshes a local copy of the session's bucket, seeded with the tokens the store says
//! are left, holds the session to its burst and rate, so one gateway cannot let a burst through
//! in the gap; a refresh the store refuses leaves the local copy empty until its `retry_after`.
//! That copy is the kit's [`LocalBucket`], shared with the gateway's client meter.
//!
//! Revocations that pass through this process evict at once ([`EvictingStore`] wraps the session
//! store the gateway wires); a revocation elsewhere (another gateway, the session or commerce
//! service) reaches this gateway at the next refresh, so a revoked or expired token is accepted
//! for at most `ttl`.
//!
//! Non-obvious decisions: entries are keyed by the public session id and sharded by user id, so
//! `revoke_all` clears one shard, and an entry keeps the secret's SHA-256, never the token (as
//! the stores do). A token whose secret does not match the entry is a guess: it goes to the store
//! and never touches the entry. Each shard counts its evictions; a refresh that started before an
//! eviction in its shard does not store its answer, so a revocation racing a refresh cannot
//! leave the revoked session cached.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::SessionStore;
use crate::store::{RateDecision, Session, StoreError, parse_session_id, parse_token, secret_hash};
use async_trait::async_trait;
use polygate_kit::Viewer;
use polygate_kit::auth::{RateVerdict, SessionStoreUnavailable, TokenVerifier};
use polygate_kit::local_bucket::{BucketShape, LocalBucket};
use polygate_kit::metrics::CacheLookups;

/// Most sessions one gateway keeps verdicts for; beyond it new sessions go to the store each
/// time (as with the cache off) until entries fall out.
pub const MAX_ENTRIES: usize = 100_000;
/// Independent locks; a power of two well above the cores that contend for them.
const SHARDS: usize = 32;
/// `cache` label in `polygate_cache_lookups_total` and `polygate_cache_hit_ratio`.
const CACHE_NAME: &str = "session_validation";

/// The verdicts, by public session id `<user>.<sid>`.
pub struct ValidationCache {
    ttl: Duration,
    shard_capacity: usize,
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
}

struct Shard {
    entries: HashMap<String, Entry>,
    /// Bumped by every eviction: a refresh that saw another count does not store its answer.
    evictions: u64,
    /// Entries stale for a whole further `ttl` are dropped then (their sessions went quiet).
    next_sweep: Instant,
}

struct Entry {
    secret_hash: String,
    viewer: Viewer,
    /// Trusted until then; the first request after it asks the store.
    refresh_at: Instant,
    /// The session's bucket as this gateway sees it; `None` when sessions are not metered.
    bucket: Option<LocalBucket>,
}

/// What the cache answers for one presented token.
enum Lookup<V> {
    /// Trusted: the viewer, and the local bucket's verdict when metered.
    Fresh(Viewer, V),
    /// Ask the store, billing `unbilled` earlier requests; `evictions` guards storing the answer.
    Ask { unbilled: u32, evictions: u64 },
}

/// A token split into what the cache needs: no copy of the secret itself.
struct Presented<'t> {
    user_id: &'t str,
    /// `<user>.<sid>`: the token without its last part.
    session_id: &'t str,
    secret_hash: String,
}

impl<'t> Presented<'t> {
    fn parse(token: &'t str) -> Option<Self> {
        let parts = parse_token(token)?;
        let session_len = token.len() - parts.secret.len() - 1;
        Some(Presented {
            user_id: parts.user_id,
            session_id: &token[..session_len],
            secret_hash: secret_hash(parts.secret),
        })
    }
}

impl Shard {
    fn new(now: Instant) -> Self {
        Shard {
            entries: HashMap::new(),
            evictions: 0,
            next_sweep: now,
        }
    }

    /// Drops entries of quiet sessions; when still full, every stale one. `true` when a new
    /// entry fits.
    fn make_room(&mut self, now: Instant, ttl: Duration, capacity: usize) -> bool {
        if now >= self.next_sweep {
            self.entries.retain(|_, e| now < e.refresh_at + ttl);
            self.next_sweep = now + ttl;
        }
        if self.entries.len() >= capacity {
            self.entries.retain(|_, e| now < e.refresh_at);
        }
        self.entries.len() < capacity
    }

    fn evicted(&mut self) {
        self.evictions = self.evictions.wrapping_add(1);
    }
}

impl ValidationCache {
    /// Trusts each verdict for `ttl`, for at most about `max_entries` sessions.
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        let now = Instant::now();
        ValidationCache {
            ttl,
            shard_capacity: max_entries.div_ceil(SHARDS).max(1),
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::new(now))).collect(),
            hasher: RandomState::new(),
        }
    }

    /// Sessions held, fresh or stale.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).entries.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, user_id: &str) -> MutexGuard<'_, Shard> {
        let index = self.hasher.hash_one(user_id) as usize % SHARDS;
        lock(&self.shards[index])
    }

    /// The entry of `presented` if fresh, answered by `answer` (`None`: not usable); otherwise
    /// what asking the store takes: the unbilled requests (handed over, so no two refreshes bill
    /// them twice) and the shard's eviction count.
    fn lookup<V>(
        &self,
        presented: &Presented<'_>,
        now: Instant,
        answer: impl FnOnce(&mut Entry) -> Option<V>,
    ) -> Lookup<V> {
        if let Some((viewer, verdict)) = self.peek(presented, now, answer) {
            return Lookup::Fresh(viewer, verdict);
        }
        let mut shard = self.shard(presented.user_id);
        let evictions = shard.evictions;
        // A guess at a cached session (wrong secret) leaves the entry alone.
        let unbilled = shard
            .entries
            .get_mut(presented.session_id)
            .filter(|e| e.secret_hash == presented.secret_hash)
            .and_then(|e| e.bucket.as_mut())
            .map_or(0, LocalBucket::take_unbilled);
        Lookup::Ask {
            unbilled,
            evictions,
        }
    }

    /// The entry of `presented` answered by `answer` if fresh; `None` (and nothing changed) if
    /// the store must be asked.
    fn peek<V>(
        &self,
        presented: &Presented<'_>,
        now: Instant,
        answer: impl FnOnce(&mut Entry) -> Option<V>,
    ) -> Option<(Viewer, V)> {
        let mut shard = self.shard(presented.user_id);
        let entry = shard
            .entries
            .get_mut(presented.session_id)
            .filter(|e| e.secret_hash == presented.secret_hash && now < e.refresh_at)?;
        let verdict = answer(entry)?;
        Some((entry.viewer.clone(), verdict))
    }

    /// Stores the store's answer, unless an eviction in the shard happened since `evictions`.
    fn fill(
        &self,
        presented: &Presented<'_>,
        viewer: &Viewer,
        bucket: Option<LocalBucket>,
        evictions: u64,
        now: Instant,
    ) {
        let mut shard = self.shard(presented.user_id);
        if shard.evictions != evictions {
            return; // a revocation raced this answer: the next request asks again
        }
        let refresh_at = now + self.ttl;
        if let Some(entry) = shard.entries.get_mut(presented.session_id) {
            // Another refresh landed first and requests were admitted from it: keep billing them.
            entry.bucket = match (bucket, &entry.bucket) {
                (Some(fresh), Some(previous)) => Some(fresh.carrying(previous)),
                (fresh, _) => fresh,
            };
            entry.secret_hash.clone_from(&presented.secret_hash);
            entry.viewer.clone_from(viewer);
            entry.refresh_at = refresh_at;
            return;
        }
        if !shard.make_room(now, self.ttl, self.shard_capacity) {
            return;
        }
        shard.entries.insert(
            presented.session_id.to_owned(),
            Entry {
                secret_hash: presented.secret_hash.clone(),
                viewer: viewer.clone(),
                refresh_at,
                bucket,
            },
        );
    }

    /// The store no longer knows this token: drop its entry (if it is this token's).
    fn forget(&self, presented: &Presented<'_>) {
        let mut shard = self.shard(presented.user_id);
        let ours = shard
            .entries
            .get(presented.session_id)
            .is_some_and(|e| e.secret_hash == presented.secret_hash);
        if ours {
            shard.entries.remove(presented.session_id);
        }
    }

    /// The store could not be asked: the requests a refresh was to bill stay unbilled.
    fn rebill(&self, presented: &Presented<'_>, unbilled: u32) {
        if unbilled == 0 {
            return;
        }
        let mut shard = self.shard(presented.user_id);
        if let Some(b) = shard
            .entries
            .get_mut(presented.session_id)
            .filter(|e| e.secret_hash == presented.secret_hash)
            .and_then(|e| e.bucket.as_mut())
        {
            b.rebill(unbilled);
        }
    }

    /// Forgets the session with this public id (revoked through this process).
    pub fn evict_session(&self, session_id: &str) {
        let Some((user_id, _)) = parse_session_id(session_id) else {
            return;
        };
        let mut shard = self.shard(user_id);
        shard.entries.remove(session_id);
        shard.evicted();
    }

    /// Forgets every session of this user (all revoked through this process).
    pub fn evict_user(&self, user_id: &str) {
        let mut shard = self.shard(user_id);
        shard.entries.retain(|_, e| e.viewer.user_id != user_id);
        shard.evicted();
    }
}

/// A poisoned shard still holds consistent entries (no multi-step invariant spans a panic
/// point), so it stays usable.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(|e| e.into_inner())
}

/// Look-up counters of this cache, resolved once: the hot path only bumps atomics.
static LOOKUPS: LazyLock<CacheLookups> = LazyLock::new(|| CacheLookups::new(CACHE_NAME));

/// A [`TokenVerifier`] that answers from a [`ValidationCache`] while a verdict is fresh and asks
/// `inner` (the session store) otherwise.
pub struct CachingVerifier {
    inner: Arc<dyn TokenVerifier>,
    cache: Arc<ValidationCache>,
}

impl CachingVerifier {
    pub fn new(inner: Arc<dyn TokenVerifier>, cache: Arc<ValidationCache>) -> Self {
        CachingVerifier { inner, cache }
    }
}

#[async_trait]
impl TokenVerifier for CachingVerifier {
    fn verify_now(&self, token: &str) -> Option<Viewer> {
        let presented = Presented::parse(token)?;
        let (viewer, ()) = self.cache.peek(&presented, Instant::now(), |_| Some(()))?;
        LOOKUPS.hit();
        Some(viewer)
    }

    fn verify_metered_now(
        &self,
        token: &str,
        capacity: u32,
        per_sec: f64,
        cost: u32,
    ) -> Option<(Viewer, RateVerdict)> {
        let presented = Presented::parse(token)?;
        let meter = BucketShape { capacity, per_sec };
        let now = Instant::now();
        let found = self.cache.peek(&presented, now, |entry| {
            let bucket = entry.bucket.as_mut().filter(|b| b.shape() == meter)?;
            Some(bucket.take(cost, now))
        })?;
        LOOKUPS.hit();
        Some(found)
    }

    async fn verify(&self, token: &str) -> Result<Option<Viewer>, SessionStoreUnavailable> {
        let Some(presented) = Presented::parse(token) else {
            return Ok(None);
        };
        let evictions = match self.cache.lookup(&presented, Instant::now(), |_| Some(())) {
            Lookup::Fresh(viewer, ()) => {
                LOOKUPS.hit();
                return Ok(Some(viewer));
            }
            Lookup::Ask { evictions, .. } => evictions,
        };
        match self.inner.verify(token).await {
            Ok(Some(viewer)) => {
                LOOKUPS.miss();
                let now = Instant::now();
                self.cache.fill(&presented, &viewer, None, evictions, now);
                Ok(Some(viewer))
            }
            Ok(None) => {
                LOOKUPS.miss();
                self.cache.forget(&presented);
                Ok(None)
            }
            Err(e) => {
                LOOKUPS.error();
                Err(e)
            }
        }
    }

    async fn verify_metered(
        &self,
        token: &str,
        capacity: u32,
        per_sec: f64,
        cost: u32,
    ) -> Result<Option<(Viewer, RateVerdict)>, SessionStoreUnavailable> {
        let Some(presented) = Presented::parse(token) else {
            return Ok(None);
        };
        let meter = BucketShape { capacity, per_sec };
        let now = Instant::now();
        let looked_up = self.cache.lookup(&presented, now, |entry| {
            let bucket = entry.bucket.as_mut().filter(|b| b.shape() == meter)?;
            Some(bucket.take(cost, now))
        });
        let (unbilled, evictions) = match looked_up {
            Lookup::Fresh(viewer, verdict) => {
                LOOKUPS.hit();
                return Ok(Some((viewer, verdict)));
            }
            Lookup::Ask {
                unbilled,
                evictions,
            } => (unbilled, evictions),
        };
        let billed = unbilled.saturating_add(cost);
        match self
            .inner
            .verify_metered(token, capacity, per_sec, billed)
            .await
        {
            Ok(Some((viewer, verdict))) => {
                LOOKUPS.miss();
                let now = Instant::now();
                let bucket = LocalBucket::seeded(meter, &verdict, now);
                self.cache
                    .fill(&presented, &viewer, Some(bucket), evictions, now);
                Ok(Some((viewer, verdict)))
            }
            Ok(None) => {
                LOOKUPS.miss();
                self.cache.forget(&presented);
                Ok(None)
            }
            Err(e) => {
                LOOKUPS.error();
                self.cache.rebill(&presented, unbilled);
                Err(e)
            }
        }
    }
}

/// The session store as the gateway wires it (for commerce's `logout`, the session subgraph's
/// `revokeSession` / `revokeAllSessions`): every revocation also evicts the affected verdicts
/// from the [`ValidationCache`], after the store has ended the sessions.
pub struct EvictingStore {
    inner: Arc<dyn SessionStore>,
    cache: Arc<ValidationCache>,
}

impl EvictingStore {
    pub fn new(inner: Arc<dyn SessionStore>, cache: Arc<ValidationCache>) -> Self {
        EvictingStore { inner, cache }
    }
}

#[async_trait]
impl SessionStore for EvictingStore {
    async fn create(&self, user_id: &str, staff: bool) -> Result<(String, Session), StoreError> {
        self.inner.create(user_id, staff).await
    }

    async fn validate(&self, token: &str) -> Result<Option<Session>, StoreError> {
        self.inner.validate(token).await
    }

    async fn validate_metered(
        &self,
        token: &str,
        capacity: u32,
        refill_per_sec: f64,
        cost: u32,
    ) -> Result<Option<(Session, RateDecision)>, StoreError> {
        self.inner
            .validate_metered(token, capacity, refill_per_sec, cost)
            .await
    }

    async fn revoke(&self, session_id: &str) -> Result<bool, StoreError> {
        let revoked = self.inner.revoke(session_id).await;
        self.cache.evict_session(session_id);
        revoked
    }

    async fn revoke_token(&self, token: &str) -> Result<bool, StoreError> {
        let revoked = self.inner.revoke_token(token).await;
        if let Some(presented) = Presented::parse(token) {
            self.cache.evict_session(presented.session_id);
        }
        revoked
    }

    async fn revoke_all(&self, user_id: &str) -> Result<u64, StoreError> {
        let revoked = self.inner.revoke_all(user_id).await;
        self.cache.evict_user(user_id);
        revoked
    }

    async fn sessions_of_users(
        &self,
        user_ids: &[String],
    ) -> Result<HashMap<String, Vec<Session>>, StoreError> {
        self.inner.sessions_of_users(user_ids).await
    }

    async fn set_attribute(
        &self,
        session_id: &str,
        name: &str,
        value: &str,
    ) -> Result<bool, StoreError> {
        self.inner.set_attribute(session_id, name, value).await
    }

    async fn remove_attribute(&self, session_id: &str, name: &str) -> Result<bool, StoreError> {
        self.inner.remove_attribute(session_id, name).await
    }

    async fn attributes(&self, session_id: &str) -> Result<HashMap<String, String>, StoreError> {
        self.inner.attributes(session_id).await
    }

    async fn rate_limit(
        &self,
        key: &str,
        capacity: u32,
        refill_per_sec: f64,
        cost: u32,
    ) -> Result<RateDecision, StoreError> {
        self.inner
            .rate_limit(key, capacity, refill_per_sec, cost)
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }

    fn engine(&self) -> &'static str {
        self.inner.engine()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use crate::{SessionAuth, SessionPolicy};
    use polygate_kit::auth::SessionIssuer;

    /// The session store's verifier, recording the cost of every metered call it answers.
    struct Recording {
        auth: SessionAuth,
        costs: Mutex<Vec<u32>>,
    }

    impl Recording {
        fn costs(&self) -> Vec<u32> {
            self.costs.lock().unwrap().clone()
        }
    }

    #[async_trait]
    impl TokenVerifier for Recording {
        async fn verify(&self, token: &str) -> Result<Option<Viewer>, SessionStoreUnavailable> {
            self.costs.lock().unwrap().push(0);
            self.auth.verify(token).await
        }

        async fn verify_metered(
            &self,
            token: &str,
            capacity: u32,
            per_sec: f64,
            cost: u32,
        ) -> Result<Option<(Viewer, RateVerdict)>, SessionStoreUnavailable> {
            self.costs.lock().unwrap().push(cost);
            self.auth
                .verify_metered(token, capacity, per_sec, cost)
                .await
        }
    }

    struct Setup {
        /// Revokes through the evicting store, as this gateway's `logout` would.
        auth: SessionAuth,
        /// The store itself, as another process would reach it.
        store: Arc<dyn SessionStore>,
        cache: Arc<ValidationCache>,
        store_calls: Arc<Recording>,
        verifier: CachingVerifier,
    }

    fn setup(ttl_ms: u64, max_entries: usize) -> Setup {
        let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new(SessionPolicy::default()));
        let cache = Arc::new(ValidationCache::new(
            Duration::from_millis(ttl_ms),
            max_entries,
        ));
        let evicting = Arc::new(EvictingStore::new(store.clone(), cache.clone()));
        let auth = SessionAuth(evicting);
        let store_calls = Arc::new(Recording {
            auth: auth.clone(),
            costs: Mutex::default(),
        });
        let verifier = CachingVerifier::new(store_calls.clone(), cache.clone());
        Setup {
            auth,
            store,
            cache,
            store_calls,
            verifier,
        }
    }

    impl Setup {
        async fn sign_in(&self, user: &str) -> String {
            self.auth.issue(user, false).await.unwrap().token
        }

        /// One request under a bucket of `capacity`, refilled at `per_sec`.
        async fn admit(&self, token: &str, capacity: u32, per_sec: f64) -> Option<RateVerdict> {
            let verified = self.verifier.verify_metered(token, capacity, per_sec, 1);
            verified.await.unwrap().map(|(_, verdict)| verdict)
        }

        async fn signed_in(&self, token: &str) -> bool {
            self.admit(token, 1_000, 1_000.0).await.is_some()
        }
    }

    async fn sleep_ms(ms: u64) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    #[tokio::test]
    async fn within_the_ttl_a_validated_token_needs_no_store_call() {
        let s = setup(10_000, MAX_ENTRIES);
        let token = s.sign_in("u1").await;
        for _ in 0..5 {
            let (viewer, verdict) = s
                .verifier
                .verify_metered(&token, 100, 10.0, 1)
                .await
                .unwrap()
                .expect("signed in");
            assert_eq!(viewer.user_id, "u1");
            assert!(verdict.allowed);
        }
        assert_eq!(
            s.store_calls.costs(),
            [1],
            "one store call for five requests"
        );
        assert!(s.verifier.verify(&token).await.unwrap().is_some());
        assert_eq!(
            s.store_calls.costs(),
            [1],
            "unmetered look-ups hit the same entry"
        );
    }

    #[tokio::test]
    async fn after_the_ttl_the_store_is_asked_and_billed_for_every_cached_request() {
        let s = setup(50, MAX_ENTRIES);
        let token = s.sign_in("u1").await;
        for _ in 0..4 {
            assert!(s.admit(&token, 10, 0.001).await.unwrap().allowed);
        }
        assert_eq!(s.store_calls.costs(), [1]);
        sleep_ms(70).await;
        let refreshed = s.admit(&token, 10, 0.001).await.expect("still signed in");
        assert_eq!(
            s.store_calls.costs(),
            [1, 4],
            "three cached requests + this one"
        );
        assert_eq!(refreshed.remaining, 5, "10 - 1 - 4: {refreshed:?}");
    }

    #[tokio::test]
    async fn answering_now_never_asks_the_store_nor_loses_unbilled_requests() {
        let s = setup(50, MAX_ENTRIES);
        let token = s.sign_in("u1").await;
        assert!(s.verifier.verify_metered_now(&token, 10, 1.0, 1).is_none());
        assert!(s.admit(&token, 10, 1.0).await.unwrap().allowed);
        let (_, now) = s.verifier.verify_metered_now(&token, 10, 1.0, 1).unwrap();
        assert!(now.allowed);
        assert!(s.verifier.verify_now(&token).is_some());
        sleep_ms(70).await;
        assert!(
            s.verifier.verify_metered_now(&token, 10, 1.0, 1).is_none(),
            "stale"
        );
        assert!(s.admit(&token, 10, 1.0).await.unwrap().allowed);
        assert_eq!(
            s.store_calls.costs(),
            [1, 2],
            "the request answered now is billed"
        );
    }

    #[tokio::test]
    async fn the_local_bucket_holds_a_session_to_its_burst_between_refreshes() {
        let s = setup(10_000, MAX_ENTRIES);
        let token = s.sign_in("u1").await;
        let first = s.admit(&token, 3, 1.0).await.unwrap();
        assert_eq!((first.allowed, first.remaining), (true, 2));
        assert!(s.admit(&token, 3, 1.0).await.unwrap().allowed);
        assert!(s.admit(&token, 3, 1.0).await.unwrap().allowed);
        let limited = s.admit(&token, 3, 1.0).await.unwrap();
        assert!(!limited.allowed, "the burst of 3 is spent: {limited:?}");
        assert!(
            (900..=1_000).contains(&limited.retry_after_ms),
            "{limited:?}"
        );
        assert_eq!(
            s.store_calls.costs(),
            [1],
            "limited locally, without the store"
        );
    }

    #[tokio::test]
    async fn a_refresh_the_store_refuses_limits_the_entry_until_retry_after() {
        let s = setup(50, MAX_ENTRIES);
        let token = s.sign_in("u1").await;
        assert!(s.admit(&token, 2, 1.0).await.unwrap().allowed); // store: 2 → 1
        assert!(s.admit(&token, 2, 1.0).await.unwrap().allowed); // local: 1 → 0, unbilled 1
        assert!(!s.admit(&token, 2, 1.0).await.unwrap().allowed); // local: empty
        sleep_ms(70).await;
        // The store had 1 token (+0.07): the cost of 2 is refused and the earlier request billed.
        let refused = s.admit(&token, 2, 1.0).await.unwrap();
        assert!(!refused.allowed, "{refused:?}");
        assert_eq!(s.store_calls.costs(), [1, 2]);
        let still = s.admit(&token, 2, 1.0).await.unwrap();
        assert!(!still.allowed, "limited here until retry_after: {still:?}");
        assert!(still.retry_after_ms > 800, "{still:?}");
        assert_eq!(s.store_calls.costs(), [1, 2], "without asking the store");
    }

    #[tokio::test]
    async fn a_revocation_through_this_gateway_evicts_at_once() {
        let s = setup(10_000, MAX_ENTRIES);
        let logged_out = s.sign_in("u1").await;
        let revoked = s.sign_in("u1").await;
        let others = [s.sign_in("u2").await, s.sign_in("u2").await];
        let survivor = s.sign_in("u3").await;
        for token in [&logged_out, &revoked, &others[0], &others[1], &survivor] {
            assert!(s.signed_in(token).await);
        }
        assert!(s.auth.revoke_token(&logged_out).await.unwrap());
        assert!(!s.signed_in(&logged_out).await, "logout");
        let session_id = s
            .verifier
            .verify(&revoked)
            .await
            .unwrap()
            .unwrap()
            .session_id;
        assert!(s.auth.0.revoke(&session_id).await.unwrap());
        assert!(!s.signed_in(&revoked).await, "revokeSession");
        assert_eq!(s.auth.0.revoke_all("u2").await.unwrap(), 2);
        for token in &others {
            assert!(!s.signed_in(token).await, "revokeAllSessions");
        }
        let calls = s.store_calls.costs().len();
        assert!(s.signed_in(&survivor).await);
        assert_eq!(
            s.store_calls.costs().len(),
            calls,
            "other sessions stay cached"
        );
    }

    #[tokio::test]
    async fn a_revocation_elsewhere_is_seen_within_the_ttl() {
        let s = setup(100, MAX_ENTRIES);
        let token = s.sign_in("u1").await;
        assert!(s.signed_in(&token).await);
        assert!(
            s.store.revoke_token(&token).await.unwrap(),
            "another process"
        );
        assert!(s.signed_in(&token).await, "still trusted within the ttl");
        sleep_ms(120).await;
        assert!(!s.signed_in(&token).await, "refused at the next refresh");
        assert!(s.cache.is_empty(), "and forgotten");
    }

    #[tokio::test]
    async fn a_revocation_racing_a_refresh_is_not_undone_by_it() {
        let s = setup(10_000, MAX_ENTRIES);
        let token = s.sign_in("u1").await;
        let presented = Presented::parse(&token).unwrap();
        let now = Instant::now();
        let Lookup::Ask { evictions, .. } = s.cache.lookup(&presented, now, |_| Some(())) else {
            panic!("an empty cache asks the store");
        };
        let viewer = s.verifier.inner.verify(&token).await.unwrap().unwrap();
        s.cache.evict_session(presented.session_id); // logout lands while the answer travels
        s.cache.fill(&presented, &viewer, None, evictions, now);
        assert!(s.cache.is_empty());
    }

    #[tokio::test]
    async fn a_guess_at_a_cached_session_asks_the_store_and_leaves_the_entry_alone() {
        let s = setup(10_000, MAX_ENTRIES);
        let token = s.sign_in("u1").await;
        assert!(s.signed_in(&token).await);
        let last = if token.ends_with('0') { '1' } else { '0' };
        let guessed = format!("{}{last}", &token[..token.len() - 1]);
        assert!(!s.signed_in(&guessed).await);
        assert!(s.signed_in(&token).await);
        assert_eq!(s.store_calls.costs(), [1, 1], "the guess went to the store");
        assert_eq!(s.cache.len(), 1);
    }

    #[tokio::test]
    async fn the_cache_holds_at_most_its_bound_and_the_rest_go_to_the_store() {
        let s = setup(10_000, 64);
        let mut tokens = Vec::new();
        for i in 0..300 {
            let token = s.sign_in(&format!("u{i}")).await;
            assert!(s.signed_in(&token).await);
            tokens.push(token);
        }
        assert!(s.cache.len() <= 64, "{} entries", s.cache.len());
        assert!(s.cache.len() >= 32, "{} entries", s.cache.len());
        for token in &tokens {
            assert!(s.signed_in(token).await, "every session still signs in");
        }
    }

    #[tokio::test]
    async fn sessions_that_went_quiet_are_swept() {
        let s = setup(200, MAX_ENTRIES);
        for i in 0..50 {
            let token = s.sign_in(&format!("u{i}")).await;
            assert!(s.signed_in(&token).await);
        }
        sleep_ms(450).await; // stale for more than a further ttl
        // Enough new sessions that every shard takes one and sweeps.
        for i in 0..1_000 {
            let token = s.sign_in(&format!("fresh{i}")).await;
            assert!(s.signed_in(&token).await);
        }
        assert_eq!(s.cache.len(), 1_000, "the 50 quiet sessions are gone");
    }
}
