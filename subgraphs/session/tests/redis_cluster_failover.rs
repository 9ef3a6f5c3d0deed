//! Failover on the Redis Cluster at `POLYGATE_TEST_REDIS_CLUSTER_URL` (skipped when unset): a
//! master really stops (`SHUTDOWN NOSAVE`), its replica takes over, and sessions written and
//! replicated (`WAIT`) before the stop still validate. Its own test binary, so no other test
//! uses the cluster while a master is down; the stopped node is started again at the end (also
//! when the test fails), so the cluster is whole for whoever comes next.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use polygate_kit::testing::{server_url, unique_name};
use polygate_session::store::redis::health::RedisHealth;
use polygate_session::store::{RedisStore, SessionPolicy, SessionStore};

const URL_VAR: &str = "POLYGATE_TEST_REDIS_CLUSTER_URL";
const USERS: usize = 30;
/// Longest the cluster may take to promote the replica (node timeout is 2 s).
const FAILOVER_WAIT: Duration = Duration::from_secs(20);

/// One line of `CLUSTER NODES`.
#[derive(Debug, Clone)]
struct Node {
    id: String,
    port: u16,
    flags: String,
    master_id: String,
    slots: Vec<(u16, u16)>,
}

impl Node {
    fn is_master(&self) -> bool {
        self.flags.contains("master")
    }

    fn failed(&self) -> bool {
        self.flags.split(',').any(|f| f == "fail")
    }

    fn owns(&self, slot: u16) -> bool {
        self.slots
            .iter()
            .any(|(lo, hi)| (*lo..=*hi).contains(&slot))
    }
}

fn parse_nodes(text: &str) -> Vec<Node> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let port = f
                .get(1)?
                .split('@')
                .next()?
                .rsplit(':')
                .next()?
                .parse()
                .ok()?;
            let slots = f
                .iter()
                .skip(8)
                .filter(|s| !s.starts_with('['))
                .filter_map(|s| match s.split_once('-') {
                    Some((lo, hi)) => Some((lo.parse().ok()?, hi.parse().ok()?)),
                    None => s.parse().ok().map(|one| (one, one)),
                })
                .collect();
            Some(Node {
                id: f[0].to_owned(),
                port,
                flags: f[2].to_owned(),
                master_id: f[3].to_owned(),
                slots,
            })
        })
        .collect()
}

/// A direct (non-cluster) command to one node.
async fn node_cmd<T: redis::FromRedisValue>(port: u16, cmd: &redis::Cmd) -> redis::RedisResult<T> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
    let mut conn = tokio::time::timeout(
        Duration::from_secs(1),
        client.get_multiplexed_async_connection(),
    )
    .await
    .map_err(|_| redis::RedisError::from(std::io::Error::other("connect timed out")))??;
    cmd.query_async(&mut conn).await
}

async fn cluster_nodes(port: u16) -> redis::RedisResult<Vec<Node>> {
    let text: String = node_cmd(port, redis::cmd("CLUSTER").arg("NODES")).await?;
    Ok(parse_nodes(&text))
}

async fn cluster_ok(port: u16) -> bool {
    let info: redis::RedisResult<String> = node_cmd(port, redis::cmd("CLUSTER").arg("INFO")).await;
    info.is_ok_and(|i| i.lines().any(|l| l.trim() == "cluster_state:ok"))
}

fn cluster_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../e2e/servers/redis-cluster.sh")
}

fn run_script(args: &[&str]) {
    let status = Command::new("bash")
        .arg(cluster_script())
        .args(args)
        .status()
        .expect("bash runs");
    assert!(status.success(), "redis-cluster.sh {args:?} failed");
}

/// Starts the stopped node again however the test ends.
struct RestartOnDrop(u16);

impl Drop for RestartOnDrop {
    fn drop(&mut self) {
        run_script(&["start-node", &self.0.to_string()]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicated_sessions_survive_a_master_failover() {
    let Some(url) = server_url(URL_VAR) else {
        return;
    };
    let seed_ports: Vec<u16> = url
        .trim_start_matches("redis-cluster://")
        .split(',')
        .filter_map(|h| h.rsplit(':').next()?.parse().ok())
        .collect();
    let store = RedisStore::connect(&url, SessionPolicy::default(), &unique_name("psfail"))
        .await
        .expect("test Redis Cluster answers");

    // Sessions of 30 users, spread over the slots (and so over the masters).
    let mut tokens = Vec::with_capacity(USERS);
    for i in 0..USERS {
        let (token, _) = store.create(&format!("u_fo{i}"), false).await.unwrap();
        tokens.push((format!("u_fo{i}"), token));
    }
    let acked = store.wait_for_replicas(1, 1_000).await.unwrap();
    assert!(
        acked >= 1,
        "every master's replica acknowledged the writes: {acked}"
    );

    // Stop the master owning the first user's slot; count whose sessions it held.
    let nodes = cluster_nodes(seed_ports[0]).await.unwrap();
    let mut slot_of = HashMap::new();
    for (user, _) in &tokens {
        let key = format!("{{u:{user}}}");
        let slot: u16 = node_cmd(seed_ports[0], redis::cmd("CLUSTER").arg("KEYSLOT").arg(key))
            .await
            .unwrap();
        slot_of.insert(user.clone(), slot);
    }
    let victim = nodes
        .iter()
        .find(|n| n.is_master() && n.owns(slot_of["u_fo0"]))
        .expect("a master owns the slot")
        .clone();
    let replica = nodes
        .iter()
        .find(|n| n.master_id == victim.id)
        .expect("the master has a replica")
        .clone();
    let on_victim = tokens
        .iter()
        .filter(|(u, _)| victim.owns(slot_of[u]))
        .count();
    let observer = nodes
        .iter()
        .find(|n| n.port != victim.port && n.port != replica.port)
        .expect("a third node")
        .port;

    let stopped_at = Instant::now();
    run_script(&["stop-node", &victim.port.to_string()]);
    let _restart = RestartOnDrop(victim.port);

    // Wait until the replica owns the slots and the cluster says ok.
    loop {
        let promoted = cluster_nodes(observer).await.is_ok_and(|nodes| {
            nodes
                .iter()
                .any(|n| n.id == replica.id && n.is_master() && n.owns(slot_of["u_fo0"]))
                && nodes.iter().any(|n| n.id == victim.id && n.failed())
        });
        if promoted && cluster_ok(observer).await && cluster_ok(replica.port).await {
            break;
        }
        assert!(
            stopped_at.elapsed() < FAILOVER_WAIT,
            "no failover within {FAILOVER_WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let failover_took = stopped_at.elapsed();

    // The health monitor sees it too: the stopped node down, its replica now a master.
    let seen = RedisHealth::new(&url).unwrap().poll().await;
    let victim_addr = format!("127.0.0.1:{}", victim.port);
    let replica_addr = format!("127.0.0.1:{}", replica.port);
    assert!(
        seen.iter().any(|n| n.node == victim_addr && !n.up),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|n| n.node == replica_addr && n.up && n.master == Some(true)),
        "{seen:?}"
    );

    // Every token validates again; the client may need a moment to learn the new slot map.
    let mut survived = 0;
    let mut errors = 0;
    for (user, token) in &tokens {
        let mut outcome = None;
        for _ in 0..20 {
            match store.validate(token).await {
                Ok(found) => {
                    outcome = Some(found);
                    break;
                }
                Err(_) => {
                    errors += 1;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
        let found = outcome.unwrap_or_else(|| panic!("{user}: the store never answered"));
        if found.is_some_and(|s| &s.user_id == user) {
            survived += 1;
        }
    }
    eprintln!(
        "failover: master :{} stopped, replica :{} promoted after {failover_took:?}; \
         {survived} of {USERS} sessions survived ({on_victim} lived on the stopped master; \
         {errors} store errors while the client caught up)",
        victim.port, replica.port
    );
    assert_eq!(survived, USERS, "replicated sessions are not lost");

    // The promoted master takes writes.
    let (token, _) = store.create("u_fo0", false).await.unwrap();
    assert!(store.validate(&token).await.unwrap().is_some());

    // Bring the old master back now (it rejoins as a replica of the promoted one).
    drop(_restart);
    let back = Instant::now();
    loop {
        let rejoined = cluster_nodes(observer).await.is_ok_and(|nodes| {
            nodes
                .iter()
                .any(|n| n.id == victim.id && !n.failed() && n.master_id == replica.id)
        });
        // Whole again only once the rejoined replica has synced (its link up), as
        // `redis-cluster.sh start` leaves it: the tests that follow may read its health.
        let synced = node_cmd::<String>(victim.port, redis::cmd("INFO").arg("replication"))
            .await
            .is_ok_and(|info| info.lines().any(|l| l.trim() == "master_link_status:up"));
        if rejoined && synced && cluster_ok(victim.port).await {
            break;
        }
        assert!(
            back.elapsed() < FAILOVER_WAIT,
            "the stopped node did not rejoin"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
