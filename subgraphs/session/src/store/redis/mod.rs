//! Redis session store, standalone or Redis Cluster: every operation is a Lua script on one
//! slot, called once (twice where it needs sessions the caller cannot name: a sign-in past the
//! cap, `revoke_all`, listing), bounded by one timeout.
//!
//! Key schema (`<p>` = prefix, default `ps:v2`, versioned so a format change can coexist):
//! - `<p>:{u:<user>}:s:<sid>`  hash `staff created last_seen secret` (secret = SHA-256 only),
//!   plus one `a:<name>` field per session attribute
//! - `<p>:{u:<user>}:idx`      sorted set of the user's sids scored by expiry (ms)
//! - `<p>:rl:{<key>}`          token bucket `tokens ts`
//!
//! Every key carries a TTL equal to its remaining life, so Redis drops dead sessions and full
//! buckets itself; index entries of dead sessions are trimmed with `ZREMRANGEBYSCORE` on each
//! write and list, never by a keyspace scan. Every script declares every key it touches and
//! reads time from the Redis server (see [`scripts`]).
//!
//! Non-obvious decision: there are no pointer keys. A token `<user>.<sid>.<secret>` and a public
//! session id `<user>.<sid>` name their session key directly, and a user's sessions and index
//! share the `{u:<user>}` hash tag, so each script touches exactly one cluster slot. That is what
//! lets standalone and cluster share every script and differ only in the [`Connection`].

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use polygate_kit::metrics::StoreCallTimer;
use polygate_kit::redis::cluster_builder;
pub use polygate_kit::redis::{CLUSTER_SCHEME, Connection};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, Script, ScriptInvocation};

use super::{
    MAX_ATTRIBUTES, RateDecision, SUBGRAPH, Session, SessionPolicy, SessionStore, StoreError,
    TokenParts, check_attribute_name, check_attribute_value, check_bucket, check_cost,
    check_rate_limit, check_user_id, new_secret, new_sid, parse_session_id, parse_token,
    secret_hash, session_from_ms, too_many_attributes,
};

pub mod health;
mod info;
mod list;
mod options;
pub mod scripts;

pub use options::{RedisOptions, install_crypto_provider};

pub use scripts::ScriptChecks;
use scripts::Scripts;

/// Key prefix used in production; tests pass a unique one. `v2`: tokens carry user and sid.
pub const DEFAULT_PREFIX: &str = "ps:v2";
/// Upper bound on one store call, network included.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// Most times a script that answers "declare these sessions" is called again within one store
/// call (a sign-in past the cap, `revoke_all`). Each answer names the sessions present at that
/// moment, so only sign-ins of the same user racing this call make a second answer differ; a
/// third is not expected in practice.
const DECLARE_ATTEMPTS: usize = 4;

type ValidateReply = Option<(String, i64, i64, i64)>;
type ValidateMeteredReply = Option<(String, i64, i64, i64, i64, i64, i64)>;
/// `{1, now_ms, evicted sids}` or `{0, 0, sids to declare}`.
type CreateReply = (i64, i64, Vec<String>);
/// `{live sessions deleted, sids still in the index}`.
type RevokeAllReply = (u64, Vec<String>);

pub struct RedisStore {
    conn: Connection,
    policy: SessionPolicy,
    prefix: String,
    scripts: Scripts,
}

impl RedisStore {
    /// Connects to `redis://…` (standalone) or `redis-cluster://h1:p1,h2:p2,…` (cluster; the
    /// nodes are seeds, the rest is discovered), or their TLS forms `rediss://…` and
    /// `rediss-cluster://…`, and checks it answers `PING`.
    pub async fn connect(
        url: &str,
        policy: SessionPolicy,
        prefix: &str,
    ) -> Result<Self, StoreError> {
        Self::connect_with(url, policy, prefix, &RedisOptions::default()).await
    }

    /// [`connect`](Self::connect) with `options` (the CA a TLS server must chain to).
    pub async fn connect_with(
        url: &str,
        policy: SessionPolicy,
        prefix: &str,
        options: &RedisOptions,
    ) -> Result<Self, StoreError> {
        Self::connect_inner(url, policy, prefix, ScriptChecks::default(), options).await
    }

    /// [`connect`](Self::connect) with every script run behind `checks`: for tests proving
    /// that scripts declare their keys and read only the server's clock.
    #[doc(hidden)]
    pub async fn connect_checked(
        url: &str,
        policy: SessionPolicy,
        prefix: &str,
        checks: ScriptChecks,
    ) -> Result<Self, StoreError> {
        Self::connect_inner(url, policy, prefix, checks, &RedisOptions::default()).await
    }

    async fn connect_inner(
        url: &str,
        policy: SessionPolicy,
        prefix: &str,
        checks: ScriptChecks,
        options: &RedisOptions,
    ) -> Result<Self, StoreError> {
        let conn = tokio::time::timeout(CALL_TIMEOUT * 3, open(url, options))
            .await
            .map_err(|_| StoreError::Unavailable("connecting to Redis timed out".to_owned()))??;
        let store = Self {
            conn,
            policy,
            prefix: prefix.to_owned(),
            scripts: Scripts::new(checks),
        };
        store.ping().await?;
        Ok(store)
    }

    fn engine_label(&self) -> &'static str {
        match self.conn {
            Connection::Standalone(_) => "redis",
            Connection::Cluster(_) => "redis-cluster",
        }
    }

    fn session_key(&self, user_id: &str, sid: &str) -> String {
        format!("{}:{{u:{user_id}}}:s:{sid}", self.prefix)
    }

    fn index_key(&self, user_id: &str) -> String {
        format!("{}:{{u:{user_id}}}:idx", self.prefix)
    }

    fn bucket_key(&self, key: &str) -> String {
        format!("{}:rl:{{{key}}}", self.prefix)
    }

    /// Declares the session hashes of `sids` as keys and the sids as the arguments after those
    /// already given (the scripts pair them by position).
    fn declare_sessions(
        &self,
        invocation: &mut ScriptInvocation<'_>,
        user_id: &str,
        sids: &[String],
    ) {
        for sid in sids {
            invocation.key(self.session_key(user_id, sid));
        }
        for sid in sids {
            invocation.arg(sid);
        }
    }

    /// The keys and arguments the validation scripts read, for `script` (plain or metered).
    fn validation<'s>(&self, script: &'s Script, parts: &TokenParts<'_>) -> ScriptInvocation<'s> {
        let mut invocation = script.prepare_invoke();
        invocation
            .key(self.session_key(parts.user_id, parts.sid))
            .key(self.index_key(parts.user_id))
            .arg(parts.sid)
            .arg(secret_hash(parts.secret))
            .arg(self.policy.idle_ms())
            .arg(self.policy.absolute_ms());
        invocation
    }

    /// The session key and the policy arguments the attribute scripts read first.
    fn on_session<'s>(&self, script: &'s Script, user_id: &str, sid: &str) -> ScriptInvocation<'s> {
        let mut invocation = script.prepare_invoke();
        invocation
            .key(self.session_key(user_id, sid))
            .arg(self.policy.idle_ms())
            .arg(self.policy.absolute_ms());
        invocation
    }

    /// Runs one store call under the timeout and the metrics timer.
    async fn call<T>(
        &self,
        operation: &'static str,
        work: impl Future<Output = Result<T, RedisError>>,
    ) -> Result<T, StoreError> {
        let timer = StoreCallTimer::start(SUBGRAPH, self.engine_label(), operation);
        let result = match tokio::time::timeout(CALL_TIMEOUT, work).await {
            Ok(result) => result.map_err(unavailable),
            Err(_) => Err(StoreError::Unavailable(format!(
                "Redis {operation} timed out after {CALL_TIMEOUT:?}"
            ))),
        };
        timer.finish(result)
    }

    async fn revoke_sid(
        &self,
        operation: &'static str,
        user_id: &str,
        sid: &str,
        hash: &str,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let revoked: i64 = self
            .call(operation, async {
                self.scripts
                    .revoke
                    .key(self.session_key(user_id, sid))
                    .key(self.index_key(user_id))
                    .arg(sid)
                    .arg(hash)
                    .arg(self.policy.idle_ms())
                    .arg(self.policy.absolute_ms())
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok(revoked > 0)
    }

    /// The create script until it has every session it must evict declared; `None` when the
    /// user's sessions kept changing for [`DECLARE_ATTEMPTS`] calls.
    async fn create_declared(
        &self,
        user_id: &str,
        sid: &str,
        staff: bool,
        hash: &str,
    ) -> Result<Option<i64>, RedisError> {
        let mut conn = self.conn.clone();
        let mut victims: Vec<String> = Vec::new();
        for _ in 0..DECLARE_ATTEMPTS {
            let mut invocation = self.scripts.create.prepare_invoke();
            invocation
                .key(self.session_key(user_id, sid))
                .key(self.index_key(user_id))
                .arg(sid)
                .arg(if staff { "1" } else { "0" })
                .arg(self.policy.idle_ms())
                .arg(self.policy.absolute_ms())
                .arg(hash)
                .arg(self.policy.cap());
            self.declare_sessions(&mut invocation, user_id, &victims);
            let (created, now, sids): CreateReply = invocation.invoke_async(&mut conn).await?;
            if created == 1 {
                return Ok(Some(now));
            }
            victims = sids;
        }
        Ok(None)
    }

    /// Waits until `replicas` replicas acknowledged this store's writes so far, at most
    /// `timeout_ms`; returns how many did (the minimum over masters on a cluster). For tests
    /// of failover, which must know what was replicated before a master dies.
    #[doc(hidden)]
    pub async fn wait_for_replicas(
        &self,
        replicas: u32,
        timeout_ms: u64,
    ) -> Result<i64, StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("WAIT")
            .arg(replicas)
            .arg(timeout_ms)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)
    }

    /// Every key under this store's prefix with its values, flattened to strings. Uses `KEYS`
    /// (sent to every master on a cluster): for tests proving no clear token is stored, never
    /// for serving.
    #[doc(hidden)]
    pub async fn stored_strings(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn.clone();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let mut out = Vec::new();
        for key in keys {
            let kind: String = redis::cmd("TYPE")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            let values: Vec<String> = match kind.as_str() {
                "string" => redis::cmd("GET").arg(&key).query_async(&mut conn).await,
                "hash" => redis::cmd("HGETALL").arg(&key).query_async(&mut conn).await,
                "zset" => {
                    redis::cmd("ZRANGE")
                        .arg(&key)
                        .arg(0)
                        .arg(-1)
                        .query_async(&mut conn)
                        .await
                }
                _ => Ok(Vec::new()),
            }
            .map_err(unavailable)?;
            out.push(key);
            out.extend(values);
        }
        Ok(out)
    }
}

/// Opens the connection a URL names.
async fn open(url: &str, options: &RedisOptions) -> Result<Connection, StoreError> {
    if let Some(builder) = cluster_builder(url) {
        let builder = options
            .cluster(builder.map_err(StoreError::InvalidInput)?)
            .connection_timeout(CALL_TIMEOUT)
            .response_timeout(CALL_TIMEOUT)
            .retries(3)
            .min_retry_wait(50)
            .max_retry_wait(500);
        let client = builder
            .build()
            .map_err(|e| StoreError::InvalidInput(format!("invalid Redis Cluster URL: {e}")))?;
        let conn = client.get_async_connection().await.map_err(unavailable)?;
        return Ok(Connection::Cluster(conn));
    }
    let client = options
        .client(url)
        .map_err(|e| StoreError::InvalidInput(format!("invalid Redis URL: {e}")))?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CALL_TIMEOUT))
        .set_response_timeout(Some(CALL_TIMEOUT))
        .set_number_of_retries(2);
    let conn = ConnectionManager::new_with_config(client, options.manager(config))
        .await
        .map_err(unavailable)?;
    Ok(Connection::Standalone(conn))
}

pub(crate) fn unavailable(e: RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// A bucket script's `allowed, retry_after_ms, remaining` as the port's decision.
fn rate_decision(allowed: i64, retry_after_ms: i64, remaining: i64) -> RateDecision {
    RateDecision {
        allowed: allowed == 1,
        retry_after_ms: u64::try_from(retry_after_ms).unwrap_or_default(),
        remaining: u32::try_from(remaining).unwrap_or_default(),
    }
}

pub(crate) fn parse_staff(raw: &str) -> Result<bool, StoreError> {
    match raw {
        "1" => Ok(true),
        "0" => Ok(false),
        other => Err(StoreError::Corrupt(format!("staff flag {other:?}"))),
    }
}

/// Sessions still changing after [`DECLARE_ATTEMPTS`] calls: someone signs in as this user in
/// a loop. Reported as unavailable (try again), never as a half-done step.
fn contended(operation: &str, user_id: &str) -> StoreError {
    StoreError::Unavailable(format!(
        "{operation}: the sessions of user {user_id} kept changing for {DECLARE_ATTEMPTS} attempts"
    ))
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn create(&self, user_id: &str, staff: bool) -> Result<(String, Session), StoreError> {
        check_user_id(user_id)?;
        let secret = new_secret();
        let sid = new_sid();
        let hash = secret_hash(&secret);
        let created = self
            .call("create", self.create_declared(user_id, &sid, staff, &hash))
            .await?;
        let now = created.ok_or_else(|| contended("create", user_id))?;
        let expires = self.policy.expiry_ms(now, now);
        let session = session_from_ms(user_id, &sid, staff, now, now, expires);
        Ok((super::token(user_id, &sid, &secret), session))
    }

    async fn validate(&self, token: &str) -> Result<Option<Session>, StoreError> {
        let Some(parts) = parse_token(token) else {
            return Ok(None);
        };
        let mut conn = self.conn.clone();
        let reply: ValidateReply = self
            .call("validate", async {
                self.validation(&self.scripts.validate, &parts)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        let Some((staff, created, last_seen, expires)) = reply else {
            return Ok(None);
        };
        let staff = parse_staff(&staff)?;
        Ok(Some(session_from_ms(
            parts.user_id,
            parts.sid,
            staff,
            created,
            last_seen,
            expires,
        )))
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
        let mut conn = self.conn.clone();
        let reply: ValidateMeteredReply = self
            .call("validate_metered", async {
                self.validation(&self.scripts.validate_metered, &parts)
                    .arg(capacity)
                    .arg(refill_per_sec)
                    .arg(cost)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        let Some((staff, created, last_seen, expires, allowed, retry_after_ms, remaining)) = reply
        else {
            return Ok(None);
        };
        let session = session_from_ms(
            parts.user_id,
            parts.sid,
            parse_staff(&staff)?,
            created,
            last_seen,
            expires,
        );
        let decision = rate_decision(allowed, retry_after_ms, remaining);
        Ok(Some((session, decision)))
    }

    async fn revoke(&self, session_id: &str) -> Result<bool, StoreError> {
        let Some((user_id, sid)) = parse_session_id(session_id) else {
            return Ok(false);
        };
        self.revoke_sid("revoke", user_id, sid, "").await
    }

    async fn revoke_token(&self, token: &str) -> Result<bool, StoreError> {
        let Some(parts) = parse_token(token) else {
            return Ok(false);
        };
        let hash = secret_hash(parts.secret);
        self.revoke_sid("revoke_token", parts.user_id, parts.sid, &hash)
            .await
    }

    async fn revoke_all(&self, user_id: &str) -> Result<u64, StoreError> {
        check_user_id(user_id)?;
        let mut conn = self.conn.clone();
        let revoked = self
            .call("revoke_all", async {
                // The first call declares nothing and learns the user's sids; each next one
                // deletes those it declares and names any that appeared meanwhile.
                let mut declared: Vec<String> = Vec::new();
                let mut revoked = 0;
                for _ in 0..DECLARE_ATTEMPTS {
                    let mut invocation = self.scripts.revoke_all.prepare_invoke();
                    invocation
                        .key(self.index_key(user_id))
                        .arg(self.policy.idle_ms())
                        .arg(self.policy.absolute_ms());
                    self.declare_sessions(&mut invocation, user_id, &declared);
                    let (live, left): RevokeAllReply = invocation.invoke_async(&mut conn).await?;
                    revoked += live;
                    if left.is_empty() {
                        return Ok(Some(revoked));
                    }
                    declared = left;
                }
                Ok(None)
            })
            .await?;
        revoked.ok_or_else(|| contended("revoke_all", user_id))
    }

    async fn sessions_of_users(
        &self,
        user_ids: &[String],
    ) -> Result<HashMap<String, Vec<Session>>, StoreError> {
        let user_ids: Vec<&str> = user_ids
            .iter()
            .map(String::as_str)
            .filter(|u| super::is_valid_user_id(u))
            .collect();
        if user_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let replies = self
            .call("sessions_of_users", self.list_users(&user_ids))
            .await?;
        let mut out = HashMap::with_capacity(user_ids.len());
        for (user_id, rows) in user_ids.into_iter().zip(replies) {
            out.insert(user_id.to_owned(), list::to_sessions(user_id, rows)?);
        }
        Ok(out)
    }

    async fn set_attribute(
        &self,
        session_id: &str,
        name: &str,
        value: &str,
    ) -> Result<bool, StoreError> {
        check_attribute_name(name)?;
        check_attribute_value(value)?;
        let Some((user_id, sid)) = parse_session_id(session_id) else {
            return Ok(false);
        };
        let mut conn = self.conn.clone();
        let reply: i64 = self
            .call("set_attribute", async {
                self.on_session(&self.scripts.set_attribute, user_id, sid)
                    .arg(format!("a:{name}"))
                    .arg(value)
                    .arg(MAX_ATTRIBUTES)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        match reply {
            1 => Ok(true),
            0 => Ok(false),
            _ => Err(too_many_attributes()),
        }
    }

    async fn remove_attribute(&self, session_id: &str, name: &str) -> Result<bool, StoreError> {
        check_attribute_name(name)?;
        let Some((user_id, sid)) = parse_session_id(session_id) else {
            return Ok(false);
        };
        let mut conn = self.conn.clone();
        let removed: i64 = self
            .call("remove_attribute", async {
                self.on_session(&self.scripts.remove_attribute, user_id, sid)
                    .arg(format!("a:{name}"))
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok(removed > 0)
    }

    async fn attributes(&self, session_id: &str) -> Result<HashMap<String, String>, StoreError> {
        let Some((user_id, sid)) = parse_session_id(session_id) else {
            return Ok(HashMap::new());
        };
        let mut conn = self.conn.clone();
        let pairs: Vec<(String, String)> = self
            .call("attributes", async {
                self.on_session(&self.scripts.attributes, user_id, sid)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok(pairs
            .into_iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("a:")?.to_owned(), v)))
            .collect())
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
        let mut conn = self.conn.clone();
        let (allowed, retry_after_ms, remaining): (i64, i64, i64) = self
            .call("rate_limit", async {
                self.scripts
                    .rate_limit
                    .key(self.bucket_key(key))
                    .arg(capacity)
                    .arg(refill_per_sec)
                    .arg(cost)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok(rate_decision(allowed, retry_after_ms, remaining))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let _: String = self
            .call("ping", redis::cmd("PING").query_async(&mut conn))
            .await?;
        Ok(())
    }

    fn engine(&self) -> &'static str {
        self.engine_label()
    }
}
