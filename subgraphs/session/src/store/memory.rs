//! In-process session store: a TTL cache behind one mutex, for embedded mode and tests.
//!
//! Non-obvious decision: expired sessions are dropped lazily when touched, plus a bounded sweep
//! on every write that pops at most [`SWEEP_PER_WRITE`] entries off an expiry-ordered set. The
//! ordered set (not a `HashMap` walk) is what makes the sweep find the dead entries first, so the
//! cache cannot fill up with sessions nobody validates again, and no call loops over everything.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use polygate_kit::metrics::StoreCallTimer;

use super::{
    SUBGRAPH, Session, SessionPolicy, SessionStore, StoreError, check_user_id, new_session_id,
    new_token, now_ms, session_from_ms, token_hash,
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
    staff: bool,
    created_ms: i64,
    last_seen_ms: i64,
    token_hash: String,
}

#[derive(Default)]
struct State {
    sessions: HashMap<String, Record>,
    session_by_token: HashMap<String, String>,
    sessions_by_user: HashMap<String, HashSet<String>>,
    /// `(expires_ms, session_id)` of every stored session, soonest first.
    by_expiry: BTreeSet<(i64, String)>,
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

    fn to_session(&self, id: &str, record: &Record) -> Session {
        let expires = self
            .policy
            .expiry_ms(record.created_ms, record.last_seen_ms);
        session_from_ms(
            id.to_owned(),
            record.user_id.clone(),
            record.staff,
            record.created_ms,
            record.last_seen_ms,
            expires,
        )
    }

    /// Every key and value held, flattened to strings. For tests proving that no clear token
    /// is stored; not part of the port.
    #[doc(hidden)]
    pub fn stored_strings(&self) -> Vec<String> {
        let state = self.state();
        let mut out = Vec::new();
        for (id, r) in &state.sessions {
            out.extend([id.clone(), r.user_id.clone(), r.token_hash.clone()]);
        }
        for (hash, id) in &state.session_by_token {
            out.extend([hash.clone(), id.clone()]);
        }
        out
    }

    /// Number of sessions held, dead or alive (for tests of the sweep).
    #[doc(hidden)]
    pub fn stored_sessions(&self) -> usize {
        self.state().sessions.len()
    }

    fn create_now(&self, user_id: &str, staff: bool) -> Result<(String, Session), StoreError> {
        check_user_id(user_id)?;
        let token = new_token();
        let hash = token_hash(&token).expect("fresh tokens are well-formed");
        let id = new_session_id();
        let now = now_ms();
        let record = Record {
            user_id: user_id.to_owned(),
            staff,
            created_ms: now,
            last_seen_ms: now,
            token_hash: hash,
        };
        let session = self.to_session(&id, &record);
        let mut state = self.state();
        state.sweep(now, SWEEP_PER_WRITE);
        state.insert(id, record, self.policy.expiry_ms(now, now));
        Ok((token, session))
    }

    fn validate_now(&self, hash: &str) -> Option<Session> {
        let now = now_ms();
        let mut state = self.state();
        state.sweep(now, SWEEP_PER_WRITE);
        let id = state.session_by_token.get(hash)?.clone();
        let record = state.sessions.get(&id)?;
        let old_expiry = self
            .policy
            .expiry_ms(record.created_ms, record.last_seen_ms);
        if now >= old_expiry {
            state.remove(&id, old_expiry);
            return None;
        }
        let new_expiry = self.policy.expiry_ms(record.created_ms, now);
        state.by_expiry.remove(&(old_expiry, id.clone()));
        state.by_expiry.insert((new_expiry, id.clone()));
        let record = state.sessions.get_mut(&id)?;
        record.last_seen_ms = record.last_seen_ms.max(now);
        Some(self.to_session(&id, record))
    }

    fn revoke_now(&self, id: &str) -> bool {
        let now = now_ms();
        let mut state = self.state();
        state.sweep(now, SWEEP_PER_WRITE);
        let Some(record) = state.sessions.get(id) else {
            return false;
        };
        let expiry = self
            .policy
            .expiry_ms(record.created_ms, record.last_seen_ms);
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
                let expiry = self
                    .policy
                    .expiry_ms(record.created_ms, record.last_seen_ms);
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
                .filter_map(|id| state.sessions.get(id).map(|r| (id, r)))
                .filter(|(_, r)| now < self.policy.expiry_ms(r.created_ms, r.last_seen_ms))
                .map(|(id, r)| self.to_session(id, r))
                .collect();
            sessions.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            out.insert(user_id.clone(), sessions);
        }
        out
    }
}

impl State {
    fn insert(&mut self, id: String, record: Record, expires_ms: i64) {
        self.session_by_token
            .insert(record.token_hash.clone(), id.clone());
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
        self.session_by_token.remove(&record.token_hash);
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
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create(&self, user_id: &str, staff: bool) -> Result<(String, Session), StoreError> {
        let timer = StoreCallTimer::start(SUBGRAPH, ENGINE, "create");
        timer.finish(self.create_now(user_id, staff))
    }

    async fn validate(&self, token: &str) -> Result<Option<Session>, StoreError> {
        let Some(hash) = token_hash(token) else {
            return Ok(None);
        };
        let timer = StoreCallTimer::start(SUBGRAPH, ENGINE, "validate");
        timer.finish(Ok(self.validate_now(&hash)))
    }

    async fn revoke(&self, session_id: &str) -> Result<bool, StoreError> {
        let timer = StoreCallTimer::start(SUBGRAPH, ENGINE, "revoke");
        timer.finish(Ok(self.revoke_now(session_id)))
    }

    async fn revoke_token(&self, token: &str) -> Result<bool, StoreError> {
        let Some(hash) = token_hash(token) else {
            return Ok(false);
        };
        let timer = StoreCallTimer::start(SUBGRAPH, ENGINE, "revoke_token");
        let id = self.state().session_by_token.get(&hash).cloned();
        timer.finish(Ok(id.is_some_and(|id| self.revoke_now(&id))))
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
        });
        for i in 0..10 {
            store.create(&format!("u{i}"), false).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(80)).await;
        store.create("u_fresh", false).await.unwrap();
        assert_eq!(store.stored_sessions(), 1);
    }
}
