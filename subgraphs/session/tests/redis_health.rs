//! Redis's own health on `/metrics`: the monitor read against the real standalone Redis
//! (`POLYGATE_TEST_REDIS_URL`) and the six-node cluster (`POLYGATE_TEST_REDIS_CLUSTER_URL`),
//! checked in the Prometheus text the process serves.

use std::time::Duration;

use polygate_kit::testing::{server_url, unique_name};
use polygate_session::store::redis::health::RedisHealth;
use polygate_session::store::{RedisStore, SessionPolicy, SessionStore};

/// The value of `polygate_session_redis_<name>` on the series carrying every `labels` pair.
fn metric(name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let full = format!("polygate_session_redis_{name}{{");
    polygate_kit::metrics::render().lines().find_map(|line| {
        let rest = line.strip_prefix(&full)?;
        let (label_text, value) = rest.rsplit_once("} ")?;
        labels
            .iter()
            .all(|(k, v)| label_text.contains(&format!("{k}=\"{v}\"")))
            .then(|| value.parse().ok())?
    })
}

fn node_of(url: &str) -> String {
    url.trim_start_matches("redis://").to_owned()
}

#[tokio::test]
async fn a_standalone_redis_reports_memory_clients_load_and_keys() {
    let Some(url) = server_url("POLYGATE_TEST_REDIS_URL") else {
        return;
    };
    let node = node_of(&url);
    let at = [("node", node.as_str())];
    let mut health = RedisHealth::new(&url).unwrap();
    let seen = health.poll().await;
    assert_eq!(seen.len(), 1);
    assert!(seen[0].up && seen[0].master == Some(true), "{seen:?}");
    assert_eq!(seen[0].node, node);

    assert_eq!(metric("up", &at), Some(1.0));
    assert_eq!(metric("master", &at), Some(1.0));
    assert!(metric("used_memory_bytes", &at).unwrap() > 100_000.0);
    assert_eq!(
        metric("maxmemory_bytes", &at),
        Some(0.0),
        "the test server has no limit"
    );
    assert_eq!(metric("memory_used_ratio", &at), None, "no limit, no ratio");
    assert_eq!(
        metric(
            "maxmemory_policy",
            &[("node", &node), ("policy", "volatile-ttl")]
        ),
        Some(1.0)
    );
    assert!(metric("connected_clients", &at).unwrap() >= 1.0);
    assert!(metric("ops_per_second", &at).is_some());
    assert!(metric("evicted_keys_total", &at).is_some());
    assert!(metric("connected_replicas", &at).is_some());
    assert_eq!(metric("cluster_state_ok", &at), None, "not a cluster");
}

/// The counters follow Redis's: session look-ups count as hits, an idle session that dies
/// counts as an expired key, and the keys gauges see the session's keys.
#[tokio::test]
async fn session_traffic_moves_hits_expiries_and_keys() {
    let Some(url) = server_url("POLYGATE_TEST_REDIS_URL") else {
        return;
    };
    let node = node_of(&url);
    let at = [("node", node.as_str())];
    let mut health = RedisHealth::new(&url).unwrap();
    health.poll().await;
    let hits = metric("keyspace_hits_total", &at).unwrap();
    let expired = metric("expired_keys_total", &at).unwrap();
    let commands = metric("commands_processed_total", &at).unwrap();

    let policy = SessionPolicy {
        idle_timeout: Duration::from_millis(100),
        ..SessionPolicy::default()
    };
    let store = RedisStore::connect(&url, policy, &unique_name("pshealth"))
        .await
        .unwrap();
    let (token, _) = store.create("u_health", false).await.unwrap();
    assert!(store.validate(&token).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(store.validate(&token).await.unwrap().is_none());

    health.poll().await;
    assert!(metric("keyspace_hits_total", &at).unwrap() > hits);
    assert!(metric("expired_keys_total", &at).unwrap() > expired);
    assert!(metric("commands_processed_total", &at).unwrap() > commands);
    let ratio = metric("keyspace_hit_ratio", &at).unwrap();
    assert!(ratio > 0.0 && ratio <= 1.0, "{ratio}");
    assert!(metric("keys_with_ttl", &at).unwrap() <= metric("keys", &at).unwrap());
}

/// Every node of the cluster, masters and replicas, with the cluster's state and each
/// replica's lag as its master reports it.
#[tokio::test]
async fn every_cluster_node_reports_state_role_and_replication() {
    let Some(url) = server_url("POLYGATE_TEST_REDIS_CLUSTER_URL") else {
        return;
    };
    let mut health = RedisHealth::new(&url).unwrap();
    let seen = health.poll().await;
    assert_eq!(seen.len(), 6, "three masters, three replicas: {seen:?}");
    assert!(seen.iter().all(|n| n.up), "{seen:?}");
    let masters: Vec<&str> = seen
        .iter()
        .filter(|n| n.master == Some(true))
        .map(|n| n.node.as_str())
        .collect();
    assert_eq!(masters.len(), 3, "{seen:?}");
    for n in &seen {
        let at = [("node", n.node.as_str())];
        assert_eq!(metric("cluster_state_ok", &at), Some(1.0), "{}", n.node);
        assert_eq!(metric("cluster_slots_ok", &at), Some(16384.0), "{}", n.node);
        assert_eq!(
            metric("cluster_slots_failing", &at),
            Some(0.0),
            "{}",
            n.node
        );
        assert_eq!(metric("cluster_known_nodes", &at), Some(6.0), "{}", n.node);
        if n.master == Some(true) {
            assert_eq!(metric("connected_replicas", &at), Some(1.0), "{}", n.node);
            let replica = seen
                .iter()
                .find(|r| {
                    r.master == Some(false)
                        && metric(
                            "replica_lag_bytes",
                            &[("node", &n.node), ("replica", &r.node)],
                        )
                        .is_some()
                })
                .unwrap_or_else(|| panic!("{} reports the lag of one of the replicas", n.node));
            let lag = metric(
                "replica_lag_seconds",
                &[("node", &n.node), ("replica", &replica.node)],
            );
            assert!(lag.is_some_and(|s| s < 10.0), "{lag:?}");
        } else {
            assert_eq!(metric("master_link_up", &at), Some(1.0), "{}", n.node);
            assert!(metric("master_last_io_seconds", &at).is_some());
        }
    }
}

/// A node that does not answer reports `up 0` and no figures, and the read does not hang.
#[tokio::test]
async fn a_node_that_does_not_answer_is_down_without_stale_figures() {
    // Port 1 is reserved and closed on any test machine.
    let mut health = RedisHealth::new("redis://127.0.0.1:1").unwrap();
    let started = std::time::Instant::now();
    let seen = health.poll().await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(seen.len(), 1);
    assert!(!seen[0].up);
    let at = [("node", "127.0.0.1:1")];
    assert_eq!(metric("up", &at), Some(0.0));
    assert_eq!(metric("used_memory_bytes", &at), None);
}
