//! Redis session store: every operation is one Lua script (or one pipeline), bounded by a timeout.
//!
//! Key schema (`<p>` = prefix, default `ps:v1`, versioned so a format change can coexist):
//! - `<p>:{u:<user>}:s:<sid>`  hash `user staff created last_seen token` (token = SHA-256 only)
//! - `<p>:{u:<user>}:idx`      sorted set of the user's session ids scored by expiry (ms)
//! - `<p>:t:<sha256>`          token pointer, value `<user>:<sid>`
//! - `<p>:sid:<sid>`           session-id pointer, value `<user>:<sid>` (for `revoke(sid)`)
//!
//! Every key carries a TTL equal to the session's remaining life, so Redis drops dead sessions
//! itself; index entries of dead sessions are trimmed with `ZREMRANGEBYSCORE` on each write and
//! list, never by a keyspace scan.
//!
//! Non-obvious decision: a user's session hashes and index share one `{u:<user>}` hash tag, so
//! per-user work (listing, revoke-all) is slot-local and a cluster could route it as is. The two
//! pointers are looked up by token or session id alone and live in their own slots; the scripts
//! that start from a pointer (`validate`, `revoke`) read the keys it names inside the script to
//! keep one round trip on the standalone Redis this adapter targets. A cluster adapter would split
//! those into `GET pointer` + the same slot-local script.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use polygate_kit::metrics::StoreCallTimer;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, Script};

use super::{
    SUBGRAPH, Session, SessionPolicy, SessionStore, StoreError, check_user_id, new_session_id,
    new_token, now_ms, session_from_ms, token_hash,
};

const ENGINE: &str = "redis";

/// Key prefix used in production; tests pass a unique one.
pub const DEFAULT_PREFIX: &str = "ps:v1";
/// Upper bound on one store call, network included.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// Helpers shared by every script. `ARGV[1]` is always the key prefix.
const PRELUDE: &str = r#"
local prefix = ARGV[1]
local function session_key(user, sid) return prefix .. ':{u:' .. user .. '}:s:' .. sid end
local function index_key(user) return prefix .. ':{u:' .. user .. '}:idx' end
local function token_key(hash) return prefix .. ':t:' .. hash end
local function sid_key(sid) return prefix .. ':sid:' .. sid end
local function split_pointer(pointer)
  local at = string.find(pointer, ':[^:]*$')
  return string.sub(pointer, 1, at - 1), string.sub(pointer, at + 1)
end
-- Deletes every key of one session; 1 when its record still existed.
local function drop_session(user, sid)
  local skey = session_key(user, sid)
  local hash = redis.call('HGET', skey, 'token')
  if hash then redis.call('DEL', token_key(hash)) end
  redis.call('ZREM', index_key(user), sid)
  redis.call('DEL', sid_key(sid))
  return redis.call('DEL', skey)
end
-- The index lives at least as long as its longest-lived member.
local function keep_index(idx, ttl)
  if redis.call('PTTL', idx) < ttl then redis.call('PEXPIRE', idx, ttl) end
end
"#;

/// KEYS: token pointer, session, index, sid pointer.
/// ARGV: prefix, user, sid, staff, now_ms, idle_ms, absolute_ms, token hash.
const CREATE: &str = r#"
local user, sid, staff, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ttl = math.min(tonumber(ARGV[6]), tonumber(ARGV[7]))
local pointer = user .. ':' .. sid
redis.call('HSET', KEYS[2], 'user', user, 'staff', staff, 'created', now, 'last_seen', now,
  'token', ARGV[8])
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('SET', KEYS[1], pointer, 'PX', ttl)
redis.call('SET', KEYS[4], pointer, 'PX', ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
redis.call('ZADD', KEYS[3], tonumber(now) + ttl, sid)
keep_index(KEYS[3], ttl)
return 1
"#;

/// KEYS: token pointer. ARGV: prefix, now_ms, idle_ms, absolute_ms.
/// Returns nil, or `{user, sid, staff, created_ms, last_seen_ms, expires_ms}`.
const VALIDATE: &str = r#"
local pointer = redis.call('GET', KEYS[1])
if not pointer then return false end
local user, sid = split_pointer(pointer)
local skey = session_key(user, sid)
local f = redis.call('HMGET', skey, 'staff', 'created', 'last_seen')
if not f[2] then
  redis.call('DEL', KEYS[1])
  return false
end
local now, idle, abs = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local created, last = tonumber(f[2]), tonumber(f[3])
if now >= math.min(last + idle, created + abs) then
  drop_session(user, sid)
  return false
end
if last > now then now = last end
local expires = math.min(now + idle, created + abs)
local ttl = expires - now
redis.call('HSET', skey, 'last_seen', string.format('%d', now))
redis.call('PEXPIRE', skey, ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', sid_key(sid), ttl)
local idx = index_key(user)
redis.call('ZREMRANGEBYSCORE', idx, '-inf', ARGV[2])
redis.call('ZADD', idx, expires, sid)
keep_index(idx, ttl)
return {user, sid, f[1], created, now, expires}
"#;

/// KEYS: a token or sid pointer. ARGV: prefix, now_ms. Returns 1 when a live session went.
const REVOKE: &str = r#"
local pointer = redis.call('GET', KEYS[1])
if not pointer then return 0 end
local user, sid = split_pointer(pointer)
redis.call('DEL', KEYS[1])
redis.call('ZREMRANGEBYSCORE', index_key(user), '-inf', ARGV[2])
return drop_session(user, sid)
"#;

/// KEYS: the user's index. ARGV: prefix, user, now_ms. Returns how many live sessions went.
const REVOKE_ALL: &str = r#"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local n = 0
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  n = n + drop_session(ARGV[2], sid)
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
    local expires = math.min(last + idle, created + abs)
    if expires > now then table.insert(out, {sid, f[1], created, last, expires}) end
  end
end
return out
"#;

struct Scripts {
    create: Script,
    validate: Script,
    revoke: Script,
    revoke_all: Script,
    list: Script,
}

impl Scripts {
    fn new() -> Self {
        let script = |body: &str| Script::new(&format!("{PRELUDE}{body}"));
        Self {
            create: script(CREATE),
            validate: script(VALIDATE),
            revoke: script(REVOKE),
            revoke_all: script(REVOKE_ALL),
            list: script(LIST),
        }
    }
}

type ValidateReply = Option<(String, String, String, i64, i64, i64)>;
type ListReply = Vec<(String, String, i64, i64, i64)>;

pub struct RedisStore {
    conn: ConnectionManager,
    policy: SessionPolicy,
    prefix: String,
    scripts: Scripts,
}

impl RedisStore {
    /// Connects to a standalone Redis at `url` and checks it answers `PING`.
    pub async fn connect(
        url: &str,
        policy: SessionPolicy,
        prefix: &str,
    ) -> Result<Self, StoreError> {
        let client = redis::Client::open(url)
            .map_err(|e| StoreError::InvalidInput(format!("invalid Redis URL: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CALL_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_number_of_retries(2);
        let conn = tokio::time::timeout(
            CALL_TIMEOUT * 3,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| StoreError::Unavailable("connecting to Redis timed out".to_owned()))?
        .map_err(unavailable)?;
        let store = Self {
            conn,
            policy,
            prefix: prefix.to_owned(),
            scripts: Scripts::new(),
        };
        store.ping().await?;
        Ok(store)
    }

    fn session_key(&self, user_id: &str, session_id: &str) -> String {
        format!("{}:{{u:{user_id}}}:s:{session_id}", self.prefix)
    }

    fn index_key(&self, user_id: &str) -> String {
        format!("{}:{{u:{user_id}}}:idx", self.prefix)
    }

    fn token_key(&self, hash: &str) -> String {
        format!("{}:t:{hash}", self.prefix)
    }

    fn sid_key(&self, session_id: &str) -> String {
        format!("{}:sid:{session_id}", self.prefix)
    }

    /// Runs one store call under the timeout and the metrics timer.
    async fn call<T>(
        &self,
        operation: &'static str,
        work: impl Future<Output = Result<T, RedisError>>,
    ) -> Result<T, StoreError> {
        let timer = StoreCallTimer::start(SUBGRAPH, ENGINE, operation);
        let result = match tokio::time::timeout(CALL_TIMEOUT, work).await {
            Ok(result) => result.map_err(unavailable),
            Err(_) => Err(StoreError::Unavailable(format!(
                "Redis {operation} timed out after {CALL_TIMEOUT:?}"
            ))),
        };
        timer.finish(result)
    }

    async fn revoke_pointer(
        &self,
        operation: &'static str,
        pointer_key: String,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let revoked: i64 = self
            .call(operation, async {
                self.scripts
                    .revoke
                    .key(pointer_key)
                    .arg(&self.prefix)
                    .arg(now_ms())
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok(revoked > 0)
    }

    /// Every key under this store's prefix with its values, flattened to strings. Scans the
    /// keyspace: for tests proving no clear token is stored, never for serving.
    #[doc(hidden)]
    pub async fn stored_strings(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn.clone();
        let pattern = format!("{}:*", self.prefix);
        let mut out = Vec::new();
        let mut cursor = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
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
            if next == 0 {
                return Ok(out);
            }
            cursor = next;
        }
    }
}

fn unavailable(e: RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn parse_staff(raw: &str) -> Result<bool, StoreError> {
    match raw {
        "1" => Ok(true),
        "0" => Ok(false),
        other => Err(StoreError::Corrupt(format!("staff flag {other:?}"))),
    }
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn create(&self, user_id: &str, staff: bool) -> Result<(String, Session), StoreError> {
        check_user_id(user_id)?;
        let token = new_token();
        let hash = token_hash(&token).expect("fresh tokens are well-formed");
        let id = new_session_id();
        let now = now_ms();
        let mut conn = self.conn.clone();
        let _: i64 = self
            .call("create", async {
                self.scripts
                    .create
                    .key(self.token_key(&hash))
                    .key(self.session_key(user_id, &id))
                    .key(self.index_key(user_id))
                    .key(self.sid_key(&id))
                    .arg(&self.prefix)
                    .arg(user_id)
                    .arg(&id)
                    .arg(if staff { "1" } else { "0" })
                    .arg(now)
                    .arg(self.policy.idle_ms())
                    .arg(self.policy.absolute_ms())
                    .arg(&hash)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        let expires = self.policy.expiry_ms(now, now);
        let session = session_from_ms(id, user_id.to_owned(), staff, now, now, expires);
        Ok((token, session))
    }

    async fn validate(&self, token: &str) -> Result<Option<Session>, StoreError> {
        let Some(hash) = token_hash(token) else {
            return Ok(None);
        };
        let mut conn = self.conn.clone();
        let reply: ValidateReply = self
            .call("validate", async {
                self.scripts
                    .validate
                    .key(self.token_key(&hash))
                    .arg(&self.prefix)
                    .arg(now_ms())
                    .arg(self.policy.idle_ms())
                    .arg(self.policy.absolute_ms())
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        let Some((user_id, id, staff, created, last_seen, expires)) = reply else {
            return Ok(None);
        };
        let staff = parse_staff(&staff)?;
        Ok(Some(session_from_ms(
            id, user_id, staff, created, last_seen, expires,
        )))
    }

    async fn revoke(&self, session_id: &str) -> Result<bool, StoreError> {
        if !super::is_valid_session_id(session_id) {
            return Ok(false);
        }
        self.revoke_pointer("revoke", self.sid_key(session_id))
            .await
    }

    async fn revoke_token(&self, token: &str) -> Result<bool, StoreError> {
        let Some(hash) = token_hash(token) else {
            return Ok(false);
        };
        self.revoke_pointer("revoke_token", self.token_key(&hash))
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
        // SCRIPT LOAD rides in the same pipeline, so a restarted Redis never answers NOSCRIPT.
        let mut pipe = redis::pipe();
        pipe.load_script(&self.scripts.list).ignore();
        for user_id in &user_ids {
            pipe.invoke_script(
                self.scripts
                    .list
                    .key(self.index_key(user_id))
                    .arg(&self.prefix)
                    .arg(user_id.as_str())
                    .arg(now)
                    .arg(self.policy.idle_ms())
                    .arg(self.policy.absolute_ms()),
            );
        }
        let mut conn = self.conn.clone();
        let replies: Vec<ListReply> = self
            .call("sessions_of_users", pipe.query_async(&mut conn))
            .await?;
        let mut out = HashMap::with_capacity(user_ids.len());
        for (user_id, rows) in user_ids.into_iter().zip(replies) {
            let mut sessions = Vec::with_capacity(rows.len());
            for (id, staff, created, last_seen, expires) in rows {
                let staff = parse_staff(&staff)?;
                sessions.push(session_from_ms(
                    id,
                    user_id.clone(),
                    staff,
                    created,
                    last_seen,
                    expires,
                ));
            }
            sessions.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            out.insert(user_id.clone(), sessions);
        }
        Ok(out)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let _: String = self
            .call("ping", redis::cmd("PING").query_async(&mut conn))
            .await?;
        Ok(())
    }

    fn engine(&self) -> &'static str {
        ENGINE
    }
}
