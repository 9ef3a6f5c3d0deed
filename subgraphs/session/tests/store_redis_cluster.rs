//! The store conformance suite on a Redis Cluster at `POLYGATE_TEST_REDIS_CLUSTER_URL`
//! (`redis-cluster://host:port,…`, from `e2e/servers/redis-cluster.sh`; skipped when unset).
//! Each test gets its own key prefix, so tests run in parallel on one cluster without clashing.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::future::BoxFuture;
use polygate_kit::testing::{server_url, unique_name};
use polygate_session::store::{RedisStore, SessionPolicy, SessionStore, conformance};

const URL_VAR: &str = "POLYGATE_TEST_REDIS_CLUSTER_URL";

async fn connect(url: &str, policy: SessionPolicy) -> RedisStore {
    RedisStore::connect(url, policy, &unique_name("ps"))
        .await
        .expect("test Redis Cluster answers")
}

/// A factory over the test cluster, or `None` (skip) when it is not configured.
fn cluster_store() -> Option<impl Fn(SessionPolicy) -> BoxFuture<'static, Arc<dyn SessionStore>>> {
    let url = server_url(URL_VAR)?;
    Some(move |policy| {
        let url = url.clone();
        Box::pin(async move { Arc::new(connect(&url, policy).await) as Arc<dyn SessionStore> })
            as BoxFuture<'static, Arc<dyn SessionStore>>
    })
}

polygate_session::session_store_conformance!(cluster_store());

/// A plain cluster connection for looking at the keys directly.
async fn admin(url: &str) -> redis::cluster_async::ClusterConnection {
    let nodes: Vec<String> = url
        .trim_start_matches("redis-cluster://")
        .split(',')
        .map(|h| format!("redis://{h}"))
        .collect();
    let client = redis::cluster::ClusterClient::new(nodes).unwrap();
    client.get_async_connection().await.unwrap()
}

#[tokio::test]
async fn the_store_reports_its_engine() {
    let Some(url) = server_url(URL_VAR) else {
        return;
    };
    let store = connect(&url, SessionPolicy::default()).await;
    assert_eq!(store.engine(), "redis-cluster");
    store.ping().await.unwrap();
}

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

/// A user's session and index hash to one slot; users spread over the cluster's slots.
#[tokio::test]
async fn a_users_keys_share_one_slot_and_users_spread_over_slots() {
    let Some(url) = server_url(URL_VAR) else {
        return;
    };
    let prefix = unique_name("ps");
    let store = RedisStore::connect(&url, SessionPolicy::default(), &prefix)
        .await
        .unwrap();
    let mut conn = admin(&url).await;
    let mut slots = HashSet::new();
    for i in 0..12 {
        let user = format!("u_slot{i}");
        let (_, session) = store.create(&user, false).await.unwrap();
        let (_, sid) = session.id.rsplit_once('.').unwrap();
        let slot_of = |key: String| {
            let cmd = redis::cmd("CLUSTER").arg("KEYSLOT").arg(key).clone();
            let mut conn = conn.clone();
            async move { cmd.query_async::<i64>(&mut conn).await.unwrap() }
        };
        let session_slot = slot_of(format!("{prefix}:{{u:{user}}}:s:{sid}")).await;
        let index_slot = slot_of(format!("{prefix}:{{u:{user}}}:idx")).await;
        assert_eq!(session_slot, index_slot, "{user}");
        slots.insert(session_slot / 5461); // which third of the slot space (≈ which master)
    }
    assert!(slots.len() > 1, "12 users all landed on one master");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(keys.len(), 24, "one hash and one index per user: {keys:?}");
}

/// Why `sessions_of_users` fans out per user on a cluster: this client refuses a pipeline whose
/// keys span slots instead of splitting it per node.
#[tokio::test]
async fn the_cluster_client_refuses_cross_slot_pipelines() {
    let Some(url) = server_url(URL_VAR) else {
        return;
    };
    let prefix = unique_name("ps");
    let mut conn = admin(&url).await;
    let mut pipe = redis::pipe();
    for i in 0..20 {
        pipe.cmd("GET").arg(format!("{prefix}:{{u:x{i}}}:idx"));
    }
    let result: redis::RedisResult<Vec<Option<String>>> = pipe.query_async(&mut conn).await;
    assert!(result.is_err(), "{result:?}");
}

/// Many users over every master, in one store call.
#[tokio::test]
async fn sessions_of_users_spans_the_cluster() {
    let Some(url) = server_url(URL_VAR) else {
        return;
    };
    let store = connect(&url, SessionPolicy::default()).await;
    let mut expected = HashMap::new();
    for i in 0..40 {
        let user = format!("u_many{i}");
        let (_, session) = store.create(&user, i % 7 == 0).await.unwrap();
        expected.insert(user, session);
    }
    let users: Vec<String> = expected.keys().cloned().chain(["u_none".into()]).collect();
    let listed = store.sessions_of_users(&users).await.unwrap();
    for (user, session) in &expected {
        assert_eq!(listed[user], std::slice::from_ref(session), "{user}");
    }
    assert!(listed.get("u_none").is_none_or(Vec::is_empty));
}
