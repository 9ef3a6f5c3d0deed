//! The store conformance suite on Redis at `POLYGATE_TEST_REDIS_URL` (skipped when unset).
//! Each test gets its own key prefix, so tests run in parallel on one Redis without clashing.

use std::sync::Arc;

use futures::future::BoxFuture;
use polygate_kit::testing::{server_url, unique_name};
use polygate_session::store::{RedisStore, SessionPolicy, SessionStore, conformance};

const URL_VAR: &str = "POLYGATE_TEST_REDIS_URL";

async fn connect(url: &str, policy: SessionPolicy) -> RedisStore {
    RedisStore::connect(url, policy, &unique_name("ps"))
        .await
        .expect("test Redis answers")
}

/// A factory over the test Redis, or `None` (skip) when it is not configured.
fn redis_store() -> Option<impl Fn(SessionPolicy) -> BoxFuture<'static, Arc<dyn SessionStore>>> {
    let url = server_url(URL_VAR)?;
    Some(move |policy| {
        let url = url.clone();
        Box::pin(async move { Arc::new(connect(&url, policy).await) as Arc<dyn SessionStore> })
            as BoxFuture<'static, Arc<dyn SessionStore>>
    })
}

polygate_session::session_store_conformance!(redis_store());

#[tokio::test]
async fn token_is_not_stored_in_clear() {
    let Some(url) = server_url(URL_VAR) else {
        return;
    };
    let store = connect(&url, SessionPolicy::default()).await;
    let token = conformance::create_for_dump(&store).await;
    let dump = store.stored_strings().await.unwrap();
    conformance::assert_token_not_stored(&token, &dump);
}

/// The only keys are the session hash and the user's index (same hash tag) and the rate-limit
/// bucket: no pointer keys, and every key expires.
#[tokio::test]
async fn keys_are_versioned_share_a_hash_tag_per_user_and_expire() {
    let Some(url) = server_url(URL_VAR) else {
        return;
    };
    let prefix = unique_name("ps");
    let store = RedisStore::connect(&url, SessionPolicy::default(), &prefix)
        .await
        .unwrap();
    let (_, session) = store.create("u.k", false).await.unwrap();
    store
        .set_attribute(&session.id, "cart", "c_1")
        .await
        .unwrap();
    store.rate_limit("ip:192.0.2.7", 5, 1.0, 1).await.unwrap();
    let (_, sid) = session.id.rsplit_once('.').unwrap();
    let session_key = format!("{prefix}:{{u:u.k}}:s:{sid}");
    let index_key = format!("{prefix}:{{u:u.k}}:idx");
    let bucket_key = format!("{prefix}:rl:{{ip:192.0.2.7}}");

    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    keys.sort();
    assert_eq!(keys, [bucket_key.clone(), index_key, session_key.clone()]);
    for key in &keys {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(ttl > 0, "{key} has no TTL");
    }
    let fields: std::collections::HashMap<String, String> = redis::cmd("HGETALL")
        .arg(&session_key)
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["a:cart", "created", "last_seen", "secret", "staff"]);
}
