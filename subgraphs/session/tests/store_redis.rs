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

#[tokio::test]
async fn keys_are_versioned_and_share_a_hash_tag_per_user() {
    let Some(url) = server_url(URL_VAR) else {
        return;
    };
    let prefix = unique_name("ps");
    let store = RedisStore::connect(&url, SessionPolicy::default(), &prefix)
        .await
        .unwrap();
    let (_, session) = store.create("u_k", false).await.unwrap();
    let dump = store.stored_strings().await.unwrap();
    let session_key = format!("{prefix}:{{u:u_k}}:s:{}", session.id);
    let index_key = format!("{prefix}:{{u:u_k}}:idx");
    assert!(dump.contains(&session_key), "{dump:?}");
    assert!(dump.contains(&index_key), "{dump:?}");
}
