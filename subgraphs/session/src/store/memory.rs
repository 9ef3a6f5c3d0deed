//! In-process session store: a TTL cache behind one mutex, for embedded mode and tests.
//!
//! Non-obvious decision: expired sessions (and rate-limit buckets that would be full again) are
//! dropped lazily when touched, plus a bounded sweep on every write that pops at most
//! [`SWEEP_PER_WRITE`] entries off an expiry-ordered set. The ordered set (not a `HashMap` walk)
//! is what makes the sweep find the dead entries first, so the cache cannot fill up with
//! sessions nobody validates again or buckets of clients that went away, and no call loops over
//! everything. The token bucket is the same arithmetic as the Redis script's.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use polygate_kit::metrics::StoreCallTimer;

use super::{
    MAX_ATTRIBUTES, RateDecision, SUBGRAPH, Session, SessionPolicy, SessionStore, StoreError,
    check_attribute_name, check_attribute_value, check_bucket, check_cost, check_rate_limit,
    check_user_id, new_secret, new_sid, now_ms, parse_session_id, parse_token, secret_hash,
    session_from_ms, take_tokens, too_many_attributes,
};

/// Most expired entries one write removes besides its own work.
pub const SWEEP_PER_WRITE: usize = 32;

const ENGINE: &str = "memory";

pub struct MemoryStore {
    policy: SessionPolicy,
    state: Mutex<State>,
}

struct Record {
    user_id: String,
    sid: String,
    staff: bool,
    created_ms: i64,
    last_seen_ms: i64,
    secret_hash: String,
    attributes: HashMap<String, String>,
}

struct Bucket {
    tokens: f64,
    refilled_ms: i64,
    /// When the bucket is full again and may be forgotten.
    full_ms: i64,
}

#[derive(Default)]
struct State {
    /// By public session id `<user>.<sid>`.
    sessions: HashMap<String, Record>,
    sessions_by_user: HashMap<String, HashSet<String>>,
    /// `(expires_ms, session_id)` of every stored session, soonest first.
    by_expiry: BTreeSet<(i64, String)>,
    buckets: HashMap<String, Bucket>,
    /// `(full_ms, key)` of every bucket, soonest first.
    buckets_by_full: BTreeSet<(i64, String)>,
}

impl MemoryStore {
    pub fn new(policy: SessionPolicy) -> Self {
        Self {
            policy,
            state: Mutex::default(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the maps consistent (no multi-step invariants are
        // broken mid-way by our code paths), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn expiry(&self, record: &Record) -> i64 {
        self.policy
            .expiry_ms(record.created_ms, record.last_seen_ms)
    }

    fn to_session(&self, record: &Record) -> Session {
        session_from_ms(
            &record.user_id,
            &record.sid,
            record.staff,
            record.created_ms,
            record.last_seen_ms,
            self.expiry(record),
        )
    }

    /// Every key and value held, flattened to strings. For tests proving that no clear token
    /// is stored; not part of the port.
    #[doc(hidden)]
    pub fn stored_strings(&self) -> Vec<String> {
        let state = self.state();
        let mut out = Vec::new();
        for (id, r) in &state.sessions {
            out.extend([id.clone(), r.user_id.clone(), r.secret_hash.clone()]);
            for (name, value) in &r.attributes {
                out.extend([name.clone(), value.clone()]);
            }
        }
        out
    }

    /// Number of sessions held, dead or alive (for tests of the sweep).
    #[doc(hidden)]
    pub fn stored_sessions(&self) -> usize {
        self.state().sessions.len()
    }

    /// Number of rate-limit buckets held (for tests of the sweep).
    #[doc(hidden)]
    pub fn stored_buckets(&self) -> usize {
        self.state().buckets.len()
    }

    fn create_now(&self, user_id: &str, staff: bool) -> Result<(String, Session), StoreError> {
        check_user_id(user_id)?;
        let secret = new_secret();
        let sid = new_sid();
        let now = now_ms();
        let record = Record {
            user_id: user_id.to_owned(),
            sid: sid.clone(),
            staff,
            created_ms: now,
            last_seen_ms: now,
            secret_hash: secret_hash(&secret),
            attributes: HashMap::new(),
        };
        let session = self.to_session(&record);
        let mut state = self.state();
        state.sweep(now, SWEEP_PER_WRITE);
        self.make_room(&mut state, user_id, now);
        state.insert(session.id.clone(), record, self.policy.expiry_ms(now, now));
        Ok((super::token(user_id, &sid, &secret), session))
    }

    /// Leaves the user fewer than [`SessionPolicy::max_sessions_per_user`] live sessions: drops
    /// their dead ones, then the live ones that would expire soonest (the least recently used),
    /// as the Redis create script does. Bounded by the user's sessions, which the cap bounds.
    fn make_room(&self, state: &mut State, user_id: &str, now: i64) {
        let Some(ids) = state.sessions_by_user.get(user_id) else {
            return;
        };
        let mut by_expiry: Vec<(i64, String)> = ids
            .iter()
            .filter_map(|id| Some((self.expiry(state.sessions.get(id)?), id.clone())))
            .collect();
        by_expiry.sort_unstable();
        let live = by_expiry.iter().filter(|(expiry, _)| now < *expiry).count();
        let evict = (live + 1).saturating_sub(self.policy.cap());
        let dead = by_expiry.len() - live;
        for (expiry, id) in by_expiry.into_iter().take(dead + evict) {
            state.remove(&id, expiry);
        }
    }

    /// The live record under `id`, dropping it when it turns out dead.
    fn live<'s>(&self, state: &'s mut State, id: &str, now: i64) -> Option<&'s mut Record> {
        let expiry = self.expiry(state.sessions.get(id)?);
        if now >= expiry {
            state.remove(id, expiry);
            return None;
        }
        state.sessions.get_mut(id)
    }

    fn validate_now(&self, id: &str, hash: &str) -> Option<Session> {
        let now = now_ms();
        let mut state = self.state();
        state.sweep(now, SWEEP_PER_WRITE);
        let record = self.live(&mut state, id, now)?;
        if record.secret_hash != hash {
            return None;
        }
        let old_expiry = self.expiry(record);
        record.last_seen_ms = record.last_seen_ms.max(now);
        let new_expiry = self.expiry(record);
        let session = self.to_session(record);
        state.by_expiry.remove(&(old_expiry, id.to_owned()));
        state.by_expiry.insert((new_expiry, id.to_owned()));
        Some(session)
    }

    /// Removes a session; `true` when it was live. With `hash`, only when the secret matches.
    fn revoke_now(&self, id: &str, hash: Option<&str>) -> bool {
        let now = now_ms();
        let mut state = self.state();
        state.sweep(now, SWEEP_PER_WRITE);
        let Some(record) = state.sessions.get(id) else {
            return false;
        };
        if hash.is_some_and(|hash| record.secret_hash != hash) {
            return false;
        }
        let expiry = self.expiry(record);
        state.remove(id, expiry);
        now < expiry
    }

    fn revoke_all_now(&self, user_id: &str) -> u64 {
        let now = now_ms();
        let mut state = self.state();
        state.sweep(now, SWEEP_PER_WRITE);
        let ids = state
            .sessions_by_user
            .get(user_id)
            .cloned()
            .unwrap_or_default();
        let mut live = 0;
        for id in ids {
            if let Some(record) = state.sessions.get(&id) {
                let expiry = self.expiry(record);
                live += u64::from(now < expiry);
                state.remove(&id, expiry);
            }
        }
        live
    }

    fn sessions_of_users_now(&self, user_ids: &[String]) -> HashMap<String, Vec<Session>> {
        let now = now_ms();
        let state = self.state();
        let mut out = HashMap::new();
        for user_id in user_ids {
            let Some(ids) = state.sessions_by_user.get(user_id) else {
                continue;
            };
            let mut sessions: Vec<Session> = ids
                .iter()
                .filter_map(|id| state.sessions.get(id))
                .filter(|r| now < self.expiry(r))
                .map(|r| self.to_session(r))
                .collect();
            sessions.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            out.insert(user_id.clone(), sessions);
        }
        out
    }

    fn set_attribute_now(&self, id: &str, name: &str, value: &str) -> Result<bool, StoreError> {
        let now = now_ms();
        let mut state = self.state();
        state.sweep(now, SWEEP_PER_WRITE);
        let Some(record) = self.live(&mut state, id, now) else {
            return Ok(false);
        };
        if !record.attributes.contains_key(name) && record.attributes.len() >= MAX_ATTRIBUTES {
            return Err(too_many_attributes());
        }
        record.attributes.insert(name.to_owned(), value.to_owned());
        Ok(true)
    }

    fn remove_attribute_now(&self, id: &str, name: &str) -> bool {
        let now = now_ms();
        let mut state = self.state();
        self.live(&mut state, id, now)
            .is_some_and(|r| r.attributes.remove(name).is_some())
    }

    fn attributes_now(&self, id: &str) -> HashMap<String, String> {
        let now = now_ms();
        let mut state = self.state();
        self.live(&mut state, id, now)
            .map(|r| r.attributes.clone())
            .unwrap_or_default()
    }

    fn rate_limit_now(
        &self,
        key: &str,
        capacity: u32,
        refill_per_sec: f64,
        cost: u32,
    ) -> RateDecision {
        let now = now_ms();
        let mut state = self.state();
        state.sweep_buckets(now, SWEEP_PER_WRITE);
        let full = f64::from(capacity);
        let per_ms = refill_per_sec / 1000.0;
        let (mut tokens, mut refilled) = match state.buckets.remove(key) {
            Some(b) => {
                state.buckets_by_full.remove(&(b.full_ms, key.to_owned()));
                (b.tokens, b.refilled_ms)
            }
            None => (full, now),
        };
        if now > refilled {
            tokens += (now - refilled) as f64 * per_ms;
            refilled = now;
        }
        let (decision, tokens) = take_tokens(tokens.min(full), capacity, per_ms, cost);
        let full_ms = now + (((full - tokens) / per_ms).ceil() as i64).max(1);
        state.buckets_by_full.insert((full_ms, key.to_owned()));
        state.buckets.insert(
            key.to_owned(),
            Bucket {
                tokens,
                refilled_ms: refilled,
                full_ms,
            },
        );
        decision
    }
}

impl State {
    fn insert(&mut self, id: String, record: Record, expires_ms: i64) {
        self.sessions_by_user
            .entry(record.user_id.clone())
            .or_default()
            .insert(id.clone());
        self.by_expiry.insert((expires_ms, id.clone()));
        self.sessions.insert(id, record);
    }

    fn remove(&mut self, id: &str, expires_ms: i64) {
        self.by_expiry.remove(&(expires_ms, id.to_owned()));
        let Some(record) = self.sessions.remove(id) else {
            return;
        };
        if let Some(ids) = self.sessions_by_user.get_mut(&record.user_id) {
            ids.remove(id);
            if ids.is_empty() {
                self.sessions_by_user.remove(&record.user_id);
            }
        }
    }

    /// Drops up to `max` sessions whose expiry has passed, soonest first.
    fn sweep(&mut self, now: i64, max: usize) {
        for _ in 0..max {
            match self.by_expiry.first() {
                Some((expires, _)) if *expires <= now => {
                    let (expires, id) = self.by_expiry.pop_first().expect("first exists");
                    self.remove(&id, expires);
                }
                _ => break,
            }
        }
    }

    /// Drops up to `max` buckets that are full again (the same as having none).
    fn sweep_buckets(&mut self, now: i64, max: usize) {
        for _ in 0..max {
            match self.buckets_by_full.first() {
                Some((full, _)) if *full <= now => {
                    let (_, key) = self.buckets_by_full.pop_first().expect("first exists");
                    self.buckets.remove(&key);
                }
                _ => break,
            }
        }
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create(&self, user_id: &str, staff: bool) -> Result<(String, Session), StoreError> {
        let timer = StoreCallTimer::start(SUBGRAPH, ENGINE, "create");
        timer.finish(self.create_now(user_id, staff))
    }

    async fn validate(&self, token: &str) -> Result<Option<Session>, StoreError> {
        let Some(parts) = parse_token(token) else {
            return Ok(None);
        };
        let timer = StoreCallTimer::start(SUBGRAPH, ENGINE, "validate");
        let hash = secret_hash(parts.secret);
        timer.finish(Ok(self.validate_now(&parts.session_id(), &hash)))
    }

    async fn validate_metered(
        &self,
        token: &str,
        capacity: u32,
        refill_per_sec: f64,
        cost: u32,
    ) -> Result<Option<(Session, RateDecision)>, StoreError> {
        let Some(parts) = parse_token(token) else {
            return Ok(None);
        };
        check_bucket(capacity, refill_per_sec)?;
        check_cost(cost)?;
        let timer = StoreCallTimer::start(SUBGRAPH, ENGINE, "validate_metered");
        let session_id = parts.session_id();
        let Some(session) = self.validate_now(&session_id, &secret_hash(parts.secret)) else {
            return timer.finish(Ok(None));
        };
        // Two short critical sections, no I/O between them: nothing can observe the gap.
        let key = format!("session:{session_id}");
        let decision = self.rate_limit_now(&key, capacity, refill_per_sec, cost);
        timer.finish(Ok(Some((session, decision))))
    }

    async fn revoke(&self, session_id: &str) -> Result<bool, StoreError> {
        if parse_session_id(session_id).is_none() {
            return Ok(false);
        }
        let timer = StoreCallTimer::start(SUBGRAPH, ENGINE, "revoke");
        timer.finish(Ok(self.revoke_now(session_id, None)))
    }

    async fn revoke_token(&self, token: &str) -> Result<bool, StoreError> {
        let Some(parts) = parse_token(token) else {
            return Ok(false);
        };
        let timer = StoreCallTimer::start(SUBGRAPH, ENGINE, "revoke_token");
        let hash = secret_hash(parts.secret);
        timer.finish(Ok(self.revoke_now(&parts.session_id(), Some(&hash))))
    }

    async fn revoke_all(&self, user_id: &str) -> Result<u64, StoreError> {
        let timer = StoreCallTimer::start(SUBGRAPH, ENGINE, "revoke_all");
        timer.finish(Ok(self.revoke_all_now(user_id)))
    }

    async fn sessions_of_users(
        &self,
        user_ids: &[String],
    ) -> Result<HashMap<String, Vec<Session>>, StoreError> {
        let timer = StoreCallTimer::start(SUBGRAPH, ENGINE, "sessions_of_users");
        timer.finish(Ok(self.sessions_of_users_now(user_ids)))
    }

    async fn set_attribute(
        &self,
        session_id: &str,
        name: &str,
        value: &str,
    ) -> Result<bool, StoreError> {
        check_attribute_name(name)?;
        check_attribute_value(value)?;
        if parse_session_id(session_id).is_none() {
            return Ok(false);
        }
        let timer = StoreCallTimer::start(SUBGRAPH, ENGINE, "set_attribute");
        timer.finish(self.set_attribute_now(session_id, name, value))
    }

    async fn remove_attribute(&self, session_id: &str, name: &str) -> Result<bool, StoreError> {
        check_attribute_name(name)?;
        if parse_session_id(session_id).is_none() {
            return Ok(false);
        }
        let timer = StoreCallTimer::start(SUBGRAPH, ENGINE, "remove_attribute");
        timer.finish(Ok(self.remove_attribute_now(session_id, name)))
    }

    async fn attributes(&self, session_id: &str) -> Result<HashMap<String, String>, StoreError> {
        if parse_session_id(session_id).is_none() {
            return Ok(HashMap::new());
        }
        let timer = StoreCallTimer::start(SUBGRAPH, ENGINE, "attributes");
        timer.finish(Ok(self.attributes_now(session_id)))
    }

    async fn rate_limit(
        &self,
        key: &str,
        capacity: u32,
        refill_per_sec: f64,
        cost: u32,
    ) -> Result<RateDecision, StoreError> {
        check_rate_limit(key, capacity, refill_per_sec)?;
        check_cost(cost)?;
        let timer = StoreCallTimer::start(SUBGRAPH, ENGINE, "rate_limit");
        timer.finish(Ok(self.rate_limit_now(key, capacity, refill_per_sec, cost)))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn engine(&self) -> &'static str {
        ENGINE
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn the_sweep_drops_dead_sessions_nobody_validates() {
        let store = MemoryStore::new(SessionPolicy {
            idle_timeout: Duration::from_millis(50),
            absolute_lifetime: Duration::from_secs(60),
            ..SessionPolicy::default()
        });
        for i in 0..10 {
            store.create(&format!("u{i}"), false).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(80)).await;
        store.create("u_fresh", false).await.unwrap();
        assert_eq!(store.stored_sessions(), 1);
    }

    #[tokio::test]
    async fn the_sweep_forgets_buckets_that_are_full_again() {
        let store = MemoryStore::new(SessionPolicy::default());
        for i in 0..10 {
            let decision = store.rate_limit(&format!("ip:{i}"), 2, 100.0, 1).await;
            assert!(decision.unwrap().allowed);
        }
        assert_eq!(store.stored_buckets(), 10);
        tokio::time::sleep(Duration::from_millis(40)).await; // one token back after 10 ms
        store.rate_limit("ip:new", 2, 100.0, 1).await.unwrap();
        assert_eq!(store.stored_buckets(), 1);
    }
}
