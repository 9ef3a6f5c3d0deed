//! The session store over TLS, as ElastiCache with encryption in transit serves it: the
//! conformance suite on a TLS-only standalone Redis (`POLYGATE_TEST_REDIS_TLS_URL`, a
//! `rediss://` URL) and a TLS-only Redis Cluster (`POLYGATE_TEST_REDIS_TLS_CLUSTER_URL`, a
//! `rediss-cluster://` URL whose seed is the only way in), both with a certificate signed by the
//! CA in `POLYGATE_TEST_REDIS_TLS_CA_FILE` (`e2e/servers/redis-tls.sh` makes all three).
//! Also: the certificate is verified (without that CA the connection is refused), and the health
//! task reads nodes over TLS.

use std::sync::Arc;

use futures::future::BoxFuture;
use polygate_kit::testing::{server_url, unique_name};
use polygate_session::store::redis::RedisOptions;
use polygate_session::store::redis::health::RedisHealth;
use polygate_session::store::{RedisStore, SessionPolicy, SessionStore};

const URL_VAR: &str = "POLYGATE_TEST_REDIS_TLS_URL";
const CLUSTER_URL_VAR: &str = "POLYGATE_TEST_REDIS_TLS_CLUSTER_URL";
const CA_VAR: &str = "POLYGATE_TEST_REDIS_TLS_CA_FILE";

/// The server URL in `var` and options trusting the test CA, or `None` (skip) when unset.
fn tls_server(var: &str) -> Option<(String, RedisOptions)> {
    let url = server_url(var)?;
    let ca = server_url(CA_VAR)?;
    let options = RedisOptions::with_ca_file(ca.as_ref()).expect("the test CA file is readable");
    Some((url, options))
}

fn factory(
    var: &'static str,
) -> Option<impl Fn(SessionPolicy) -> BoxFuture<'static, Arc<dyn SessionStore>>> {
    let (url, options) = tls_server(var)?;
    Some(move |policy| {
        let (url, options) = (url.clone(), options.clone());
        Box::pin(async move {
            let store = RedisStore::connect_with(&url, policy, &unique_name("pstls"), &options)
                .await
                .expect("the TLS Redis answers");
            Arc::new(store) as Arc<dyn SessionStore>
        }) as BoxFuture<'static, Arc<dyn SessionStore>>
    })
}

mod standalone {
    use super::*;
    polygate_session::session_store_conformance!(factory(URL_VAR));
}

mod cluster {
    use super::*;
    polygate_session::session_store_conformance!(factory(CLUSTER_URL_VAR));
}

#[tokio::test]
async fn a_tls_server_whose_ca_is_not_trusted_is_refused() {
    for var in [URL_VAR, CLUSTER_URL_VAR] {
        let Some((url, _)) = tls_server(var) else {
            return;
        };
        // The compiled-in public roots do not include the test CA.
        let err = RedisStore::connect(&url, SessionPolicy::default(), &unique_name("pstls"))
            .await
            .err()
            .unwrap_or_else(|| panic!("{url}: connected without trusting its CA"));
        let text = err.to_string().to_lowercase();
        assert!(text.contains("certificate"), "{url}: {text}");
    }
}

#[tokio::test]
async fn a_plain_connection_to_a_tls_port_is_refused() {
    let Some((url, options)) = tls_server(URL_VAR) else {
        return;
    };
    let plain = url.replacen("rediss://", "redis://", 1);
    assert!(
        RedisStore::connect_with(&plain, SessionPolicy::default(), "pstls", &options)
            .await
            .is_err(),
        "{plain} answered in clear text"
    );
}

#[tokio::test]
async fn sessions_round_trip_through_the_public_connect() {
    let Some((url, options)) = tls_server(URL_VAR) else {
        return;
    };
    let store = polygate_session::connect_with(&url, SessionPolicy::default(), &options)
        .await
        .unwrap();
    let (token, _) = store.create(&unique_name("u"), false).await.unwrap();
    assert!(store.validate(&token).await.unwrap().is_some());
}

#[tokio::test]
async fn the_health_task_reads_every_node_over_tls() {
    for var in [URL_VAR, CLUSTER_URL_VAR] {
        let Some((url, options)) = tls_server(var) else {
            return;
        };
        let nodes = RedisHealth::with_options(&url, options)
            .unwrap()
            .poll()
            .await;
        assert!(!nodes.is_empty(), "{url}");
        assert!(nodes.iter().all(|n| n.up), "{url}: {nodes:?}");
        assert!(nodes.iter().any(|n| n.master == Some(true)), "{url}");
    }
}
