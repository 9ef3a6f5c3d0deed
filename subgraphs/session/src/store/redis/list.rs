//! `sessions_of_users` on Redis: the live sessions of many users in one store call.
//!
//! Non-obvious decision: two round trips, because a script may touch only keys it declares and
//! the caller does not know a user's sessions. The first reads each user's index (`ZRANGE`, a
//! plain command); the second runs the list script per user with the sessions it named
//! declared, which checks each against the server's clock. A session created between the two
//! is not listed (the answer is as of the first read); one ended between them is not either.
//! On a standalone Redis each round is one pipeline; on a cluster the client refuses a pipeline
//! spanning slots (`CROSSSLOT`, pinned by a test) instead of splitting it per node, so each
//! user's command goes on its own, concurrently, over the multiplexed per-node connections:
//! still one network round trip of latency per round.

use futures::future::try_join_all;
use redis::RedisError;

use super::{Connection, RedisStore, parse_staff};
use crate::store::{Session, StoreError, session_from_ms};

/// `{{sid, staff, created_ms, last_seen_ms, expires_ms}, …}` of one user's live sessions.
pub(super) type ListReply = Vec<(String, String, i64, i64, i64)>;

impl RedisStore {
    /// The list script's rows for each of `user_ids`, in the same order.
    pub(super) async fn list_users(&self, user_ids: &[&str]) -> Result<Vec<ListReply>, RedisError> {
        let members = self.index_members(user_ids).await?;
        let listed: Vec<(&str, &[String])> = user_ids
            .iter()
            .zip(&members)
            .filter(|(_, sids)| !sids.is_empty())
            .map(|(user, sids)| (*user, sids.as_slice()))
            .collect();
        let mut rows = self.list_declared(&listed).await?.into_iter();
        Ok(members
            .iter()
            .map(|sids| {
                if sids.is_empty() {
                    Vec::new()
                } else {
                    rows.next().unwrap_or_default()
                }
            })
            .collect())
    }

    /// Round 1: every member of each user's index, dead ones included.
    async fn index_members(&self, user_ids: &[&str]) -> Result<Vec<Vec<String>>, RedisError> {
        let zrange = |user: &str| {
            let mut cmd = redis::cmd("ZRANGE");
            cmd.arg(self.index_key(user)).arg(0).arg(-1);
            cmd
        };
        match &self.conn {
            Connection::Standalone(_) => {
                let mut pipe = redis::pipe();
                for user in user_ids {
                    pipe.add_command(zrange(user));
                }
                pipe.query_async(&mut self.conn.clone()).await
            }
            Connection::Cluster(_) => {
                try_join_all(user_ids.iter().map(|user| {
                    let cmd = zrange(user);
                    let mut conn = self.conn.clone();
                    async move { cmd.query_async::<Vec<String>>(&mut conn).await }
                }))
                .await
            }
        }
    }

    /// Round 2: the list script per user, with the sessions round 1 named declared.
    async fn list_declared(
        &self,
        users: &[(&str, &[String])],
    ) -> Result<Vec<ListReply>, RedisError> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let invocation = |user: &str, sids: &[String]| {
            let mut invocation = self.scripts.list.prepare_invoke();
            invocation
                .key(self.index_key(user))
                .arg(self.policy.idle_ms())
                .arg(self.policy.absolute_ms());
            self.declare_sessions(&mut invocation, user, sids);
            invocation
        };
        match &self.conn {
            Connection::Standalone(_) => {
                // SCRIPT LOAD rides in the same pipeline, so a restarted Redis never answers
                // NOSCRIPT.
                let mut pipe = redis::pipe();
                pipe.load_script(&self.scripts.list).ignore();
                for (user, sids) in users {
                    pipe.invoke_script(&invocation(user, sids));
                }
                pipe.query_async(&mut self.conn.clone()).await
            }
            Connection::Cluster(_) => {
                try_join_all(users.iter().map(|(user, sids)| {
                    let invocation = invocation(user, sids);
                    let mut conn = self.conn.clone();
                    async move { invocation.invoke_async::<ListReply>(&mut conn).await }
                }))
                .await
            }
        }
    }
}

/// One user's rows as sessions, oldest first.
pub(super) fn to_sessions(user_id: &str, rows: ListReply) -> Result<Vec<Session>, StoreError> {
    let mut sessions = Vec::with_capacity(rows.len());
    for (sid, staff, created, last_seen, expires) in rows {
        let staff = parse_staff(&staff)?;
        sessions.push(session_from_ms(
            user_id, &sid, staff, created, last_seen, expires,
        ));
    }
    sessions.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(sessions)
}
