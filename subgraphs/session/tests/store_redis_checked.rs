//! The store conformance suite with every Redis script run behind [`ScriptChecks`]: each key a
//! command touches must be declared in `KEYS` (asked of Redis itself with `COMMAND GETKEYS`),
//! and the server's clock, as scripts read it with `TIME`, is hours away from this process's.
//!
//! What this proves: the scripts are valid for strict cluster clients and proxies (a script
//! reaching an undeclared key fails here even when the key is in the same slot, which Redis
//! Cluster itself would let pass), and every expiry decision reads one clock, the store's. Were
//! any time taken from this process (the gateway), a session would look hours old or hours
//! young to the script and the expiry checks would fail. On the standalone Redis at
//! `POLYGATE_TEST_REDIS_URL`, and with keys checked on the cluster at
//! `POLYGATE_TEST_REDIS_CLUSTER_URL`.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use polygate_kit::testing::{server_url, unique_name};
use polygate_session::store::redis::ScriptChecks;
use polygate_session::store::{RedisStore, SessionPolicy, SessionStore};

const URL_VAR: &str = "POLYGATE_TEST_REDIS_URL";
const CLUSTER_URL_VAR: &str = "POLYGATE_TEST_REDIS_CLUSTER_URL";
/// How far the store's clock is from ours in the skewed runs: far more than any expiry a check
/// waits for, so mixing clocks cannot pass by luck.
const SKEW_SECS: i64 = 3 * 60 * 60;

fn checks(clock_offset_secs: i64) -> ScriptChecks {
    ScriptChecks {
        declared_keys_only: true,
        clock_offset_secs,
    }
}

async fn connect(url: &str, policy: SessionPolicy, checks: ScriptChecks) -> RedisStore {
    RedisStore::connect_checked(url, policy, &unique_name("psck"), checks)
        .await
        .expect("test Redis answers")
}

/// A factory over the server in `var` with `checks`, or `None` (skip) when it is not set.
fn checked_store(
    var: &str,
    checks: ScriptChecks,
) -> Option<impl Fn(SessionPolicy) -> BoxFuture<'static, Arc<dyn SessionStore>>> {
    let url = server_url(var)?;
    Some(move |policy| {
        let url = url.clone();
        Box::pin(
            async move { Arc::new(connect(&url, policy, checks).await) as Arc<dyn SessionStore> },
        ) as BoxFuture<'static, Arc<dyn SessionStore>>
    })
}

/// The store's clock three hours ahead of this process's.
mod store_clock_ahead {
    use super::*;
    polygate_session::session_store_conformance!(checked_store(URL_VAR, checks(SKEW_SECS)));
}

/// The store's clock three hours behind this process's.
mod store_clock_behind {
    use super::*;
    polygate_session::session_store_conformance!(checked_store(URL_VAR, checks(-SKEW_SECS)));
}

/// Keys checked on a cluster: the scripts run on the master of each user's slot.
mod cluster {
    use super::*;
    polygate_session::session_store_conformance!(checked_store(CLUSTER_URL_VAR, checks(0)));
}

fn process_now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

/// The times a session reports are the store's: created, seen and expiring by its clock.
#[tokio::test]
async fn session_times_come_from_the_store_clock() {
    let Some(url) = server_url(URL_VAR) else {
        return;
    };
    for offset in [SKEW_SECS, -SKEW_SECS] {
        let store = connect(&url, SessionPolicy::default(), checks(offset)).await;
        let before = process_now_secs();
        let (token, created) = store.create("u_clock", false).await.unwrap();
        let seen = store.validate(&token).await.unwrap().expect("live");
        let after = process_now_secs();
        for at in [created.created_at, seen.last_seen_at] {
            assert!(
                (before + offset - 1..=after + offset + 1).contains(&at),
                "offset {offset}: {at} is not the store's time ({before}..={after} here)"
            );
        }
        assert_eq!(seen.expires_at, seen.last_seen_at + 30 * 60);
    }
}

/// The key check can fail: a script that reaches a key it did not declare is refused, in the
/// same slot or not, while the same command on a declared key runs.
#[tokio::test]
async fn a_script_touching_an_undeclared_key_fails_the_check() {
    let Some(url) = server_url(URL_VAR) else {
        return;
    };
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let prefix = unique_name("psck");
    let declared = format!("{prefix}:{{u:x}}:idx");
    let sibling = format!("{prefix}:{{u:x}}:s:1"); // same hash tag, same slot
    let strict = checks(0);

    let ok: Option<String> = strict
        .script("return redis.call('GET', KEYS[1])")
        .key(&declared)
        .invoke_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(ok, None);
    for body in [
        "return redis.call('GET', ARGV[1])",
        "return redis.call('DEL', KEYS[1], ARGV[1])",
        "return redis.call('HSET', ARGV[1], 'f', 'v')",
    ] {
        let refused: redis::RedisResult<redis::Value> = strict
            .script(body)
            .key(&declared)
            .arg(&sibling)
            .invoke_async(&mut conn)
            .await;
        let err = refused.expect_err(body).to_string();
        assert!(err.contains("UNDECLARED"), "{body}: {err}");
        assert!(err.contains(&sibling), "{body}: {err}");
    }
    let exists: bool = redis::cmd("EXISTS")
        .arg(&sibling)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!exists, "the refused write did not happen");
}
