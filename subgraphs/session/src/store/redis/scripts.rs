//! The Lua scripts of the Redis session store, and the checks tests run them under.
//!
//! Two rules hold for every script, because they are what makes one script one atomic step on
//! one cluster slot that any Redis Cluster client, proxy or strict engine accepts:
//! - **Every key a script touches is declared in `KEYS`.** No script builds a key name. When a
//!   step needs keys the caller cannot know (the sessions in a user's index, for eviction,
//!   `revoke_all` and listing), the script answers with the sids it needs and the caller calls
//!   it again with those sessions declared; the script re-checks under its atomicity.
//! - **Time is the Redis server's** (`TIME`, read once per script), never an argument: every
//!   expiry decision of a user's sessions is made by one clock, the clock of the master that owns
//!   the user's slot, whatever the clocks of the gateways calling it. TTLs are set with relative
//!   `PEXPIRE`, so they agree with that clock by construction.
//!
//! Non-obvious decision: the tests prove both rules by running the very same script bodies
//! behind a [`ScriptChecks`] prelude that shadows `redis` with a wrapper: it asks Redis which
//! arguments of each command are keys (`COMMAND GETKEYS`) and fails the script on any key not
//! in `KEYS`, and it can move `TIME` hours away from the test process's clock. Production
//! scripts carry no prelude.

use redis::Script;

/// Hash fields every session has besides its `a:<name>` attributes.
pub(crate) const FIXED_FIELDS: usize = 4;

/// Helpers shared by every script.
const PRELUDE: &str = r#"
local function int(n) return string.format('%d', n) end
-- The Redis server's clock in ms: the only clock any decision below reads.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function expiry(created, last, idle, abs)
  return math.min(tonumber(last) + idle, tonumber(created) + abs)
end
-- The index lives at least as long as its longest-lived member.
local function keep_index(idx, ttl)
  if redis.call('PTTL', idx) < ttl then redis.call('PEXPIRE', idx, ttl) end
end
-- `cost` tokens from the bucket kept in fields `tf`/`sf` of hash `key`, refilled at `per_ms` up
-- to `cap`, at `now`. Short of `cost`, refuses and still takes `cost - 1` (requests a gateway
-- admitted earlier), into debt no deeper than `-cap`: `take_tokens` in `store/mod.rs` is the
-- same arithmetic. Returns allowed (0|1), retry_ms, tokens left, whole tokens left (0 when
-- refused).
local function take_token(key, tf, sf, cap, per_ms, cost, now)
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
-- Session keys declared after the fixed ones: ARGV[first_arg + i] is the sid whose session
-- hash is KEYS[first_key + i]. Returns sid -> key.
local function declared_sessions(first_key, first_arg)
  local out = {}
  for i = 0, #ARGV - first_arg do out[ARGV[first_arg + i]] = KEYS[first_key + i] end
  return out
end
"#;

/// KEYS: session, index, then the session hashes of `victims`. ARGV: sid, staff, idle_ms,
/// absolute_ms, secret hash, cap, then the victims' sids (same order as their keys).
/// Drops dead index entries; if the user would then hold more than `cap` live sessions, the
/// ones that would expire soonest (the least recently used) must go. When every one of them is
/// declared, they are deleted and the session is created: `{1, now_ms, evicted sids}`.
/// Otherwise nothing is written and the script answers `{0, 0, every sid in the index}`: with
/// all of them declared, the next call finds its victims among them even if other sign-ins of
/// the same user added sessions meanwhile (those are the newest, never the first to go).
const CREATE: &str = r#"
local sid, idle, abs, cap = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[6])
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', int(now))
local excess = redis.call('ZCARD', KEYS[2]) - cap + 1
local victims = {}
if excess > 0 then
  victims = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  local declared = declared_sessions(3, 7)
  for _, v in ipairs(victims) do
    if not declared[v] then return {0, 0, redis.call('ZRANGE', KEYS[2], 0, -1)} end
  end
  for _, v in ipairs(victims) do
    redis.call('DEL', declared[v])
    redis.call('ZREM', KEYS[2], v)
  end
end
local ttl = math.min(idle, abs)
redis.call('HSET', KEYS[1], 'staff', ARGV[2], 'created', int(now), 'last_seen', int(now),
  'secret', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], int(now + ttl), sid)
keep_index(KEYS[2], ttl)
return {1, now, victims}
"#;

/// KEYS: session, index. ARGV: sid, secret hash, idle_ms, absolute_ms.
/// `validate_session(now)` returns nil, or `{staff, created_ms, last_seen_ms, expires_ms}` after
/// touching the session. A wrong secret changes nothing, so knowing a session id is not enough
/// to end it.
const VALIDATE_FN: &str = r#"
local function validate_session(now)
local sid = ARGV[1]
local f = redis.call('HMGET', KEYS[1], 'secret', 'staff', 'created', 'last_seen')
if not f[1] then
  redis.call('ZREM', KEYS[2], sid)
  return false
end
if f[1] ~= ARGV[2] then return false end
local idle, abs = tonumber(ARGV[3]), tonumber(ARGV[4])
local created, last = tonumber(f[3]), tonumber(f[4])
if now >= expiry(created, last, idle, abs) then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], sid)
  return false
end
-- last_seen never moves back, even if this master's clock does (a failover to a replica whose
-- clock is behind): the session then lives by the newer time.
local seen = math.max(now, last)
local expires = math.min(seen + idle, created + abs)
local ttl = expires - now
redis.call('HSET', KEYS[1], 'last_seen', int(seen))
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', int(now))
redis.call('ZADD', KEYS[2], int(expires), sid)
keep_index(KEYS[2], ttl)
return {f[2], created, seen, expires}
end
"#;

/// As [`VALIDATE_FN`]: returns nil or `{staff, created_ms, last_seen_ms, expires_ms}`.
const VALIDATE: &str = "return validate_session(now_ms())";

/// [`VALIDATE`], then `cost` tokens from the session's own bucket (fields of the session hash,
/// so the same slot and the session's TTL). ARGV 5–7: capacity, refill per second, cost.
/// Returns nil or
/// `{staff, created_ms, last_seen_ms, expires_ms, allowed, retry_after_ms, remaining}`.
const VALIDATE_METERED: &str = r#"
local now = now_ms()
local r = validate_session(now)
if not r then return false end
local allowed, retry, _, whole = take_token(KEYS[1], 'rl_tokens', 'rl_ts', tonumber(ARGV[5]),
  tonumber(ARGV[6]) / 1000, tonumber(ARGV[7]), now)
r[5] = allowed
r[6] = retry
r[7] = whole
return r
"#;

/// KEYS: session, index. ARGV: sid, secret hash or '' (any), idle_ms, absolute_ms.
/// Returns 1 when a live session ended.
const REVOKE: &str = r#"
local now = now_ms()
local f = redis.call('HMGET', KEYS[1], 'secret', 'created', 'last_seen')
if not f[1] then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
if ARGV[2] ~= '' and f[1] ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', int(now))
if now >= expiry(f[2], f[3], tonumber(ARGV[3]), tonumber(ARGV[4])) then
  return 0
end
return 1
"#;

/// KEYS: the user's index, then session hashes. ARGV: idle_ms, absolute_ms, then the sids of
/// those hashes. Deletes the declared sessions and answers `{live ones deleted, sids still in
/// the index}`; the index itself goes once it is empty. A caller starts with none declared and
/// repeats with the sids answered until none are left.
const REVOKE_ALL: &str = r#"
local now = now_ms()
local idle, abs = tonumber(ARGV[1]), tonumber(ARGV[2])
local n = 0
for sid, key in pairs(declared_sessions(2, 3)) do
  local f = redis.call('HMGET', key, 'created', 'last_seen')
  if f[1] and now < expiry(f[1], f[2], idle, abs) then n = n + 1 end
  redis.call('DEL', key)
  redis.call('ZREM', KEYS[1], sid)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', int(now))
local left = redis.call('ZRANGE', KEYS[1], 0, -1)
if #left == 0 then redis.call('DEL', KEYS[1]) end
return {n, left}
"#;

/// KEYS: the user's index, then session hashes (the index's members as the caller read them).
/// ARGV: idle_ms, absolute_ms, then the sids of those hashes.
/// Returns `{{sid, staff, created_ms, last_seen_ms, expires_ms}, …}` of the live ones.
const LIST: &str = r#"
local now = now_ms()
local idle, abs = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', int(now))
local out = {}
for i = 2, #KEYS do
  local f = redis.call('HMGET', KEYS[i], 'staff', 'created', 'last_seen')
  if f[2] then
    local created, last = tonumber(f[2]), tonumber(f[3])
    local expires = expiry(created, last, idle, abs)
    if expires > now then table.insert(out, {ARGV[i + 1], f[1], created, last, expires}) end
  end
end
return out
"#;

/// KEYS: session. ARGV: idle_ms, absolute_ms, field, value, max attributes.
/// Returns 1 when set, 0 when the session is not live, -1 when it holds too many attributes.
/// One HSET of one field: the rest of the session (and its TTL) stays as it is.
const SET_ATTRIBUTE: &str = r#"
local f = redis.call('HMGET', KEYS[1], 'created', 'last_seen')
if not f[1] or now_ms() >= expiry(f[1], f[2], tonumber(ARGV[1]), tonumber(ARGV[2])) then
  return 0
end
if redis.call('HEXISTS', KEYS[1], ARGV[3]) == 0
  and redis.call('HLEN', KEYS[1]) - FIXED_FIELDS >= tonumber(ARGV[5]) then
  return -1
end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
return 1
"#;

/// KEYS: session. ARGV: idle_ms, absolute_ms, field.
/// Returns 1 when a live session had the field.
const REMOVE_ATTRIBUTE: &str = r#"
local f = redis.call('HMGET', KEYS[1], 'created', 'last_seen')
if not f[1] or now_ms() >= expiry(f[1], f[2], tonumber(ARGV[1]), tonumber(ARGV[2])) then
  return 0
end
return redis.call('HDEL', KEYS[1], ARGV[3])
"#;

/// KEYS: session. ARGV: idle_ms, absolute_ms. Returns the `a:<name>`, value pairs of a live
/// session, flattened; nothing for a dead or unknown one.
const ATTRIBUTES: &str = r#"
local all = redis.call('HGETALL', KEYS[1])
local fields = {}
for i = 1, #all, 2 do fields[all[i]] = all[i + 1] end
if not fields.created
  or now_ms() >= expiry(fields.created, fields.last_seen, tonumber(ARGV[1]), tonumber(ARGV[2])) then
  return {}
end
local out = {}
for i = 1, #all, 2 do
  if string.sub(all[i], 1, 2) == 'a:' then
    table.insert(out, all[i])
    table.insert(out, all[i + 1])
  end
end
return out
"#;

/// KEYS: bucket. ARGV: capacity, refill per second, cost. Returns
/// `{allowed, retry_after_ms, remaining}`. The bucket expires when it would be full again.
const RATE_LIMIT: &str = r#"
local cap, per_ms, cost = tonumber(ARGV[1]), tonumber(ARGV[2]) / 1000, tonumber(ARGV[3])
local allowed, retry, tokens, whole = take_token(KEYS[1], 'tokens', 'ts', cap, per_ms, cost,
  now_ms())
redis.call('PEXPIRE', KEYS[1], int(math.max(1, math.ceil((cap - tokens) / per_ms))))
return {allowed, retry, whole}
"#;

/// Test-only checks wrapped around every script of a store (see the module doc). The default
/// (no checks) is what production runs.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScriptChecks {
    /// Fail a script that touches a key it did not declare in `KEYS`.
    pub declared_keys_only: bool,
    /// Seconds added to the Redis server's `TIME` as scripts see it: a store whose clock is this
    /// far from the calling process's.
    pub clock_offset_secs: i64,
}

impl ScriptChecks {
    fn prelude(&self) -> String {
        if *self == Self::default() {
            return String::new();
        }
        format!(
            r#"
local real_redis = redis
local check_keys, offset = {check}, {offset}
local declared = {{}}
for _, k in ipairs(KEYS) do declared[k] = true end
local redis = setmetatable({{}}, {{__index = real_redis}})
redis.call = function(cmd, ...)
  local name = string.upper(cmd)
  if check_keys then
    local ok, keys = pcall(real_redis.call, 'COMMAND', 'GETKEYS', cmd, ...)
    if not ok and name ~= 'TIME' then
      error({{err = 'UNCHECKED cannot tell the keys of ' .. name}})
    end
    for _, k in ipairs(ok and keys or {{}}) do
      if not declared[k] then error({{err = 'UNDECLARED ' .. name .. ' touches key ' .. k}}) end
    end
  end
  if name == 'TIME' and offset ~= 0 then
    local t = real_redis.call('TIME')
    return {{tostring(tonumber(t[1]) + offset), t[2]}}
  end
  return real_redis.call(cmd, ...)
end
"#,
            check = self.declared_keys_only,
            offset = self.clock_offset_secs,
        )
    }

    /// `body` behind these checks (and nothing else): for tests that show a check fails.
    #[doc(hidden)]
    pub fn script(&self, body: &str) -> Script {
        Script::new(&format!("{}{body}", self.prelude()))
    }
}

pub(crate) struct Scripts {
    pub create: Script,
    pub validate: Script,
    pub validate_metered: Script,
    pub revoke: Script,
    pub revoke_all: Script,
    pub list: Script,
    pub set_attribute: Script,
    pub remove_attribute: Script,
    pub attributes: Script,
    pub rate_limit: Script,
}

impl Scripts {
    pub fn new(checks: ScriptChecks) -> Self {
        let prelude = checks.prelude();
        let script = |body: &str| {
            let body = body.replace("FIXED_FIELDS", &FIXED_FIELDS.to_string());
            Script::new(&format!("{prelude}{PRELUDE}{body}"))
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
            attributes: script(ATTRIBUTES),
            rate_limit: script(RATE_LIMIT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every script body, for checks that read their text.
    fn bodies() -> [&'static str; 10] {
        [
            PRELUDE,
            CREATE,
            VALIDATE_FN,
            VALIDATE_METERED,
            REVOKE,
            REVOKE_ALL,
            LIST,
            SET_ATTRIBUTE,
            REMOVE_ATTRIBUTE,
            RATE_LIMIT,
        ]
    }

    #[test]
    fn no_script_builds_a_key_name_or_sets_an_absolute_expiry() {
        for body in bodies().into_iter().chain([ATTRIBUTES]) {
            // Key names are built with `..` on a prefix; absolute expiries would be compared
            // with a clock the script does not own.
            assert!(!body.contains("prefix"), "{body}");
            assert!(!body.contains("PEXPIREAT"), "{body}");
            assert!(!body.contains("EXPIREAT"), "{body}");
        }
    }

    #[test]
    fn production_scripts_carry_no_test_prelude() {
        let scripts = Scripts::new(ScriptChecks::default());
        let plain = Script::new(&format!("{PRELUDE}{CREATE}"));
        assert_eq!(scripts.create.get_hash(), plain.get_hash());
    }
}
