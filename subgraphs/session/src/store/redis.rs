//! Redis session store, standalone or Redis Cluster: every operation is one Lua script on one
//! slot (or one command), bounded by a timeout.
//!
//! Key schema (`<p>` = prefix, default `ps:v2`, versioned so a format change can coexist):
//! - `<p>:{u:<user>}:s:<sid>`  hash `staff created last_seen secret` (secret = SHA-256 only),
//!   plus one `a:<name>` field per session attribute
//! - `<p>:{u:<user>}:idx`      sorted set of the user's sids scored by expiry (ms)
//! - `<p>:rl:{<key>}`          token bucket `tokens ts`
//!
//! Every key carries a TTL equal to its remaining life, so Redis drops dead sessions and full
//! buckets itself; index entries of dead sessions are trimmed with `ZREMRANGEBYSCORE` on each
//! write and list, never by a keyspace scan.
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
    check_rate_limit, check_user_id, new_secret, new_sid, now_ms, parse_session_id, parse_token,
    secret_hash, session_from_ms, too_many_attributes,
};

/// Key prefix used in production; tests pass a unique one. `v2`: tokens carry user and sid.
pub const DEFAULT_PREFIX: &str = "ps:v2";
/// Upper bound on one store call, network included.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// Hash fields every session has besides its `a:<name>` attributes.
const FIXED_FIELDS: usize = 4;

/// Helpers shared by every script. `ARGV[1]` is always the key prefix.
const PRELUDE: &str = r#"
local prefix = ARGV[1]
local function session_key(user, sid) return prefix .. ':{u:' .. user .. '}:s:' .. sid end
local function int(n) return string.format('%d', n) end
local function expiry(created, last, idle, abs)
  return math.min(tonumber(last) + idle, tonumber(created) + abs)
end
-- The index lives at least as long as its longest-lived member.
-- `cost` tokens from the bucket kept in fields `tf`/`sf` of hash `key`, refilled at `per_ms` up
-- to `cap`, on the Redis server's clock. Short of `cost`, refuses and still takes `cost - 1`
-- (requests a gateway admitted earlier), into debt no deeper than `-cap`: `take_tokens` in
-- `store/mod.rs` is the same arithmetic. Returns allowed (0|1), retry_ms, tokens left, whole
-- tokens left (0 when refused).
local function take_token(key, tf, sf, cap, per_ms, cost)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local b = redis.call('HMGET', key, tf, sf)
  local tokens, ts = cap, now
  if b[1] and b[2] then tokens, ts = tonumber(b[1]), tonumber(b[2]) end
  if now > ts then
    tokens = tokens + (now - ts) * per_ms
    ts = now
  end
  tokens = math.min(cap, tokens)
  local allowed, retry, whole = 0, 0, 0
  if tokens >= cost then
    tokens = tokens - cost
    allowed = 1
    whole = math.floor(tokens)
  else
    tokens = math.max(-cap, tokens - (cost - 1))
    retry = math.ceil((1 - tokens) / per_ms)
  end
  redis.call('HSET', key, tf, string.format('%.6f', tokens), sf, int(ts))
  return allowed, retry, tokens, whole
end
local function keep_index(idx, ttl)
  if redis.call('PTTL', idx) < ttl then redis.call('PEXPIRE', idx, ttl) end
end
"#;

/// KEYS: session, index. ARGV: prefix, sid, staff, now_ms, idle_ms, absolute_ms, secret hash.
const CREATE: &str = r#"
local sid, now = ARGV[2], tonumber(ARGV[4])
local ttl = math.min(tonumber(ARGV[5]), tonumber(ARGV[6]))
redis.call('HSET', KEYS[1], 'staff', ARGV[3], 'created', ARGV[4], 'last_seen', ARGV[4],
  'secret', ARGV[7])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
redis.call('ZADD', KEYS[2], int(now + ttl), sid)
keep_index(KEYS[2], ttl)
return 1
"#;

/// KEYS: session, index. ARGV: prefix, sid, secret hash, now_ms, idle_ms, absolute_ms.
/// Returns nil, or `{staff, created_ms, last_seen_ms, expires_ms}` after touching the session.
/// A wrong secret changes nothing, so knowing a session id is not enough to end it.
const VALIDATE_FN: &str = r#"
local function validate_session()
local sid = ARGV[2]
local f = redis.call('HMGET', KEYS[1], 'secret', 'staff', 'created', 'last_seen')
if not f[1] then
  redis.call('ZREM', KEYS[2], sid)
  return false
end
if f[1] ~= ARGV[3] then return false end
local now, idle, abs = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local created, last = tonumber(f[3]), tonumber(f[4])
if now >= expiry(created, last, idle, abs) then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], sid)
  return false
end
if last > now then now = last end
local expires = math.min(now + idle, created + abs)
local ttl = expires - now
redis.call('HSET', KEYS[1], 'last_seen', int(now))
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
redis.call('ZADD', KEYS[2], int(expires), sid)
keep_index(KEYS[2], ttl)
return {f[2], created, now, expires}
end
"#;

/// As [`VALIDATE_FN`]: returns nil or `{staff, created_ms, last_seen_ms, expires_ms}`.
const VALIDATE: &str = "return validate_session()";

/// [`VALIDATE`], then `cost` tokens from the session's own bucket (fields of the session hash,
/// so the same slot and the session's TTL). ARGV 7–9: capacity, refill per second, cost.
/// Returns nil or
/// `{staff, created_ms, last_seen_ms, expires_ms, allowed, retry_after_ms, remaining}`.
const VALIDATE_METERED: &str = r#"
local r = validate_session()
if not r then return false end
local allowed, retry, _, whole = take_token(KEYS[1], 'rl_tokens', 'rl_ts', tonumber(ARGV[7]),
  tonumber(ARGV[8]) / 1000, tonumber(ARGV[9]))
r[5] = allowed
r[6] = retry
r[7] = whole
return r
"#;

/// KEYS: session, index. ARGV: prefix, sid, secret hash or '' (any), now_ms, idle_ms,
/// absolute_ms. Returns 1 when a live session ended.
const REVOKE: &str = r#"
local f = redis.call('HMGET', KEYS[1], 'secret', 'created', 'last_seen')
if not f[1] then
  redis.call('ZREM', KEYS[2], ARGV[2])
  return 0
end
if ARGV[3] ~= '' and f[1] ~= ARGV[3] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
if tonumber(ARGV[4]) >= expiry(f[2], f[3], tonumber(ARGV[5]), tonumber(ARGV[6])) then
  return 0
end
return 1
"#;

/// KEYS: the user's index. ARGV: prefix, user, now_ms. Returns how many live sessions went.
const REVOKE_ALL: &str = r#"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local n = 0
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  n = n + redis.call('DEL', session_key(ARGV[2], sid))
end
redis.call('DEL', KEYS[1])
return n
"#;

/// KEYS: the user's index. ARGV: prefix, user, now_ms, idle_ms, absolute_ms.
/// Returns `{{sid, staff, created_ms, last_seen_ms, expires_ms}, …}` of live sessions.
const LIST: &str = r#"
local user, now = ARGV[2], tonumber(ARGV[3])
local idle, abs = tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local out = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local f = redis.call('HMGET', session_key(user, sid), 'staff', 'created', 'last_seen')
  if f[2] then
    local created, last = tonumber(f[2]), tonumber(f[3])
    local expires = expiry(created, last, idle, abs)
    if expires > now then table.insert(out, {sid, f[1], created, last, expires}) end
  end
end
return out
"#;

/// KEYS: session. ARGV: prefix, now_ms, idle_ms, absolute_ms, field, value, max attributes.
/// Returns 1 when set, 0 when the session is not live, -1 when it holds too many attributes.
/// One HSET of one field: the rest of the session (and its TTL) stays as it is.
const SET_ATTRIBUTE: &str = r#"
local f = redis.call('HMGET', KEYS[1], 'created', 'last_seen')
if not f[1] or tonumber(ARGV[2]) >= expiry(f[1], f[2], tonumber(ARGV[3]), tonumber(ARGV[4])) then
  return 0
end
if redis.call('HEXISTS', KEYS[1], ARGV[5]) == 0
  and redis.call('HLEN', KEYS[1]) - FIXED_FIELDS >= tonumber(ARGV[7]) then
  return -1
end
redis.call('HSET', KEYS[1], ARGV[5], ARGV[6])
return 1
"#;

/// KEYS: session. ARGV: prefix, now_ms, idle_ms, absolute_ms, field.
/// Returns 1 when a live session had the field.
const REMOVE_ATTRIBUTE: &str = r#"
local f = redis.call('HMGET', KEYS[1], 'created', 'last_seen')
if not f[1] or tonumber(ARGV[2]) >= expiry(f[1], f[2], tonumber(ARGV[3]), tonumber(ARGV[4])) then
  return 0
end
return redis.call('HDEL', KEYS[1], ARGV[5])
"#;

/// KEYS: bucket. ARGV: prefix, capacity, refill per second. Returns
/// `{allowed, retry_after_ms, remaining}`. Time comes from the Redis server (`TIME`), so
/// gateways with skewed clocks share one bucket fairly; the bucket expires when it would be full
/// again.
const RATE_LIMIT: &str = r#"
local cap, per_ms = tonumber(ARGV[2]), tonumber(ARGV[3]) / 1000
local allowed, retry, tokens, whole = take_token(KEYS[1], 'tokens', 'ts', cap, per_ms, 1)
redis.call('PEXPIRE', KEYS[1], int(math.max(1, math.ceil((cap - tokens) / per_ms))))
return {allowed, retry, whole}
"#;

struct Scripts {
    create: Script,
    validate: Script,
    validate_metered: Script,
    revoke: Script,
    revoke_all: Script,
    list: Script,
    set_attribute: Script,
    remove_attribute: Script,
    rate_limit: Script,
}

impl Scripts {
    fn new() -> Self {
        let script = |body: &str| {
            let body = body.replace("FIXED_FIELDS", &FIXED_FIELDS.to_string());
            Script::new(&format!("{PRELUDE}{body}"))
        };
        Self {
            create: script(CREATE),
            validate: script(&format!("{VALIDATE_FN}{VALIDATE}")),
            validate_metered: script(&format!("{VALIDATE_FN}{VALIDATE_METERED}")),
            revoke: script(REVOKE),
            revoke_all: script(REVOKE_ALL),
            list: script(LIST),
            set_attribute: script(SET_ATTRIBUTE),
            remove_attribute: script(REMOVE_ATTRIBUTE),
            rate_limit: script(RATE_LIMIT),
        }
    }
}

type ValidateReply = Option<(String, i64, i64, i64)>;
type ValidateMeteredReply = Option<(String, i64, i64, i64, i64, i64, i64)>;
type ListReply = Vec<(String, String, i64, i64, i64)>;

pub struct RedisStore {
    conn: Connection,
    policy: SessionPolicy,
    prefix: String,
    scripts: Scripts,
}

impl RedisStore {
    /// Connects to `redis://…` (standalone) or `redis-cluster://h1:p1,h2:p2,…` (cluster; the
    /// nodes are seeds, the rest is discovered) and checks it answers `PING`.
    pub async fn connect(
        url: &str,
        policy: SessionPolicy,
        prefix: &str,
    ) -> Result<Self, StoreError> {
        let conn = tokio::time::timeout(CALL_TIMEOUT * 3, open(url))
            .await
            .map_err(|_| StoreError::Unavailable("connecting to Redis timed out".to_owned()))??;
        let store = Self {
            conn,
            policy,
            prefix: prefix.to_owned(),
            scripts: Scripts::new(),
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

    /// The keys and arguments [`VALIDATE_FN`] reads, for `script` (plain or metered).
    fn validation<'s>(&self, script: &'s Script, parts: &TokenParts<'_>) -> ScriptInvocation<'s> {
        let mut invocation = script.prepare_invoke();
        invocation
            .key(self.session_key(parts.user_id, parts.sid))
            .key(self.index_key(parts.user_id))
            .arg(&self.prefix)
            .arg(parts.sid)
            .arg(secret_hash(parts.secret))
            .arg(now_ms())
            .arg(self.policy.idle_ms())
            .arg(self.policy.absolute_ms());
        invocation
    }

    /// The session key and the prefix/clock/policy arguments the attribute scripts read first.
    fn on_session<'s>(&self, script: &'s Script, user_id: &str, sid: &str) -> ScriptInvocation<'s> {
        let mut invocation = script.prepare_invoke();
        invocation
            .key(self.session_key(user_id, sid))
            .arg(&self.prefix)
            .arg(now_ms())
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
                    .arg(&self.prefix)
                    .arg(sid)
                    .arg(hash)
                    .arg(now_ms())
                    .arg(self.policy.idle_ms())
                    .arg(self.policy.absolute_ms())
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok(revoked > 0)
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

    fn session_of_hash(
        &self,
        fields: &HashMap<String, String>,
        now: i64,
    ) -> Result<Option<HashMap<String, String>>, StoreError> {
        let (Some(created), Some(last)) = (fields.get("created"), fields.get("last_seen")) else {
            return Ok(None);
        };
        let parse = |raw: &str| {
            raw.parse::<i64>()
                .map_err(|_| StoreError::Corrupt(format!("session time {raw:?}")))
        };
        if now >= self.policy.expiry_ms(parse(created)?, parse(last)?) {
            return Ok(None);
        }
        Ok(Some(
            fields
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix("a:")?.to_owned(), v.clone())))
                .collect(),
        ))
    }

    fn list_invocation<'a>(&'a self, user_id: &str, now: i64) -> redis::ScriptInvocation<'a> {
        let mut invocation = self.scripts.list.key(self.index_key(user_id));
        invocation
            .arg(&self.prefix)
            .arg(user_id)
            .arg(now)
            .arg(self.policy.idle_ms())
            .arg(self.policy.absolute_ms());
        invocation
    }
}

/// Opens the connection a URL names.
async fn open(url: &str) -> Result<Connection, StoreError> {
    if let Some(builder) = cluster_builder(url) {
        let builder = builder
            .map_err(StoreError::InvalidInput)?
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
    let client = redis::Client::open(url)
        .map_err(|e| StoreError::InvalidInput(format!("invalid Redis URL: {e}")))?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CALL_TIMEOUT))
        .set_response_timeout(Some(CALL_TIMEOUT))
        .set_number_of_retries(2);
    let conn = ConnectionManager::new_with_config(client, config)
        .await
        .map_err(unavailable)?;
    Ok(Connection::Standalone(conn))
}

fn unavailable(e: RedisError) -> StoreError {
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

fn parse_staff(raw: &str) -> Result<bool, StoreError> {
    match raw {
        "1" => Ok(true),
        "0" => Ok(false),
        other => Err(StoreError::Corrupt(format!("staff flag {other:?}"))),
    }
}

fn to_sessions(user_id: &str, rows: ListReply) -> Result<Vec<Session>, StoreError> {
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

#[async_trait]
impl SessionStore for RedisStore {
    async fn create(&self, user_id: &str, staff: bool) -> Result<(String, Session), StoreError> {
        check_user_id(user_id)?;
        let secret = new_secret();
        let sid = new_sid();
        let now = now_ms();
        let mut conn = self.conn.clone();
        let _: i64 = self
            .call("create", async {
                self.scripts
                    .create
                    .key(self.session_key(user_id, &sid))
                    .key(self.index_key(user_id))
                    .arg(&self.prefix)
                    .arg(&sid)
                    .arg(if staff { "1" } else { "0" })
                    .arg(now)
                    .arg(self.policy.idle_ms())
                    .arg(self.policy.absolute_ms())
                    .arg(secret_hash(&secret))
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
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
        self.call("revoke_all", async {
            self.scripts
                .revoke_all
                .key(self.index_key(user_id))
                .arg(&self.prefix)
                .arg(user_id)
                .arg(now_ms())
                .invoke_async(&mut conn)
                .await
        })
        .await
    }

    async fn sessions_of_users(
        &self,
        user_ids: &[String],
    ) -> Result<HashMap<String, Vec<Session>>, StoreError> {
        let user_ids: Vec<&String> = user_ids
            .iter()
            .filter(|u| super::is_valid_user_id(u))
            .collect();
        if user_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let now = now_ms();
        let replies: Vec<ListReply> = match &self.conn {
            Connection::Standalone(_) => {
                // SCRIPT LOAD rides in the same pipeline, so a restarted Redis never answers
                // NOSCRIPT.
                let mut pipe = redis::pipe();
                pipe.load_script(&self.scripts.list).ignore();
                for user_id in &user_ids {
                    pipe.invoke_script(&self.list_invocation(user_id, now));
                }
                let mut conn = self.conn.clone();
                self.call("sessions_of_users", pipe.query_async(&mut conn))
                    .await?
            }
            Connection::Cluster(_) => {
                // The cluster client refuses a pipeline spanning slots (CROSSSLOT) instead of
                // splitting it per node, so each user's script goes on its own, concurrently;
                // the multiplexed per-node connections still pipeline them on the wire.
                let calls = user_ids.iter().map(|user_id| {
                    let mut conn = self.conn.clone();
                    let invocation = self.list_invocation(user_id, now);
                    async move { invocation.invoke_async::<ListReply>(&mut conn).await }
                });
                self.call("sessions_of_users", futures::future::try_join_all(calls))
                    .await?
            }
        };
        let mut out = HashMap::with_capacity(user_ids.len());
        for (user_id, rows) in user_ids.into_iter().zip(replies) {
            out.insert(user_id.clone(), to_sessions(user_id, rows)?);
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
        let fields: HashMap<String, String> = self
            .call(
                "attributes",
                redis::cmd("HGETALL")
                    .arg(self.session_key(user_id, sid))
                    .query_async(&mut conn),
            )
            .await?;
        Ok(self.session_of_hash(&fields, now_ms())?.unwrap_or_default())
    }

    async fn rate_limit(
        &self,
        key: &str,
        capacity: u32,
        refill_per_sec: f64,
    ) -> Result<RateDecision, StoreError> {
        check_rate_limit(key, capacity, refill_per_sec)?;
        let mut conn = self.conn.clone();
        let (allowed, retry_after_ms, remaining): (i64, i64, i64) = self
            .call("rate_limit", async {
                self.scripts
                    .rate_limit
                    .key(self.bucket_key(key))
                    .arg(&self.prefix)
                    .arg(capacity)
                    .arg(refill_per_sec)
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
