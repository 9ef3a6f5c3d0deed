//! Read routing between a database's primary and its streaming replica, with read-your-writes.
//!
//! Non-obvious: after a user's write commits, the router remembers the primary's WAL position
//! (LSN) for that user and database. A read for that user goes to the replica only once the
//! replica has replayed past that LSN (`pg_last_wal_replay_lsn()`), otherwise to the primary.
//! Reads for nobody in particular (`reader = None`) always take the replica. The memory is per
//! router process and forgets a write after [`REMEMBER_FOR`]; a replica lagging longer than that
//! is an incident the lag metric alarms on well before.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::topology::Database;
use crate::ids::UserId;

/// How long a write is remembered for read-your-writes.
pub const REMEMBER_FOR: Duration = Duration::from_secs(60);
/// Entries kept at most; beyond it the oldest half is dropped (those reads go to the primary's
/// replica sooner, never to stale data for longer than REMEMBER_FOR would have allowed).
const MAX_REMEMBERED: usize = 100_000;

/// `(user, database index)` → (LSN of their last write there, when).
#[derive(Default)]
pub struct RecentWrites {
    writes: Mutex<HashMap<(UserId, usize), (String, Instant)>>,
}

impl RecentWrites {
    pub fn remember(&self, user: UserId, database: usize, lsn: String) {
        let mut writes = self.writes.lock().expect("recent writes lock");
        if writes.len() >= MAX_REMEMBERED {
            let cutoff = Instant::now() - REMEMBER_FOR / 2;
            writes.retain(|_, (_, at)| *at > cutoff);
        }
        writes.insert((user, database), (lsn, Instant::now()));
    }

    fn pending(&self, user: UserId, database: usize) -> Option<String> {
        let mut writes = self.writes.lock().expect("recent writes lock");
        match writes.get(&(user, database)) {
            Some((_, at)) if at.elapsed() > REMEMBER_FOR => {
                writes.remove(&(user, database));
                None
            }
            Some((lsn, _)) => Some(lsn.clone()),
            None => None,
        }
    }

    fn forget(&self, user: UserId, database: usize) {
        self.writes
            .lock()
            .expect("recent writes lock")
            .remove(&(user, database));
    }
}

/// Which pool serves a read of `database` for `reader`.
pub async fn read_pool<'a>(
    databases: &'a [Database],
    index: usize,
    reader: Option<UserId>,
    recent: &RecentWrites,
) -> &'a PgPool {
    let database = &databases[index];
    let Some(replica) = &database.replica else {
        return &database.primary;
    };
    let Some(user) = reader else {
        return replica;
    };
    let Some(lsn) = recent.pending(user, index) else {
        return replica;
    };
    let caught_up: Result<bool, _> =
        sqlx::query_scalar("SELECT COALESCE(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)")
            .bind(&lsn)
            .fetch_one(replica)
            .await;
    match caught_up {
        Ok(true) => {
            recent.forget(user, index);
            replica
        }
        // Behind, or unreachable: the primary has the write.
        _ => &database.primary,
    }
}

/// The primary's WAL insert position, after a write committed on it: at or past the write's
/// commit record. (`pg_current_wal_lsn()` is the *written* position, which with
/// `synchronous_commit = off` can still be short of a commit that has already returned.)
pub async fn current_lsn(primary: &PgPool) -> Option<String> {
    sqlx::query_scalar("SELECT pg_current_wal_insert_lsn()::TEXT")
        .fetch_one(primary)
        .await
        .ok()
}
