//! Failover: the test Neo4j server is restarted mid-test (`e2e/servers/neo4j.sh restart`, same
//! port and store) and the same store value, with its pool of now-dead connections, answers the
//! next query, without reopening anything (no gateway restart).
//!
//! Alone in its own test binary: the restart would fail every other Neo4j test running beside it
//! (cargo runs test binaries one after another).

mod common;

use std::time::Instant;

use polygate_org::OrgStore as _;
use polygate_org::store::conformance::TestOrg;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_server_restart_the_next_query_succeeds_on_the_same_store() {
    let Some(url) = polygate_kit::testing::server_url(common::NEO4J_URL_VAR) else {
        return;
    };
    let store = common::neo4j_store().await.expect("the server is up");
    let org = TestOrg::loaded(&store).await;
    let chain = store.chain_of_command(&org.id("e6")).await.unwrap();
    assert_eq!(chain.len(), 4);

    let port = url
        .rsplit(':')
        .next()
        .expect("a port in the URL")
        .trim_end_matches('/');
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e/servers/neo4j.sh");
    let started = Instant::now();
    let status = tokio::process::Command::new(&script)
        .arg("restart")
        .env("POLYGATE_SERVERS_NEO4J_PORT", port)
        .status()
        .await
        .expect("run the server script");
    assert!(status.success(), "{} restart failed", script.display());
    eprintln!("neo4j restarted in {:?}", started.elapsed());

    let started = Instant::now();
    let chain = store
        .chain_of_command(&org.id("e6"))
        .await
        .expect("the first query after the restart succeeds");
    eprintln!(
        "first query after the restart took {:?} ({} retried calls so far)",
        started.elapsed(),
        polygate_org::metrics::RETRIES
            .with_label_values(&["neo4j"])
            .get()
    );
    assert_eq!(
        org.names(chain.iter().map(|e| &e.id)),
        ["e5", "e4", "vp2", "ceo"],
        "the graph survived the restart"
    );
    // Writes work again too, and go through the reorganisation lock as before.
    let change = polygate_org::domain::Reorg::MoveTeam {
        manager: org.id("e5"),
        new_manager: org.id("vp1"),
    };
    let outcome = store
        .reorganise(&change, None, polygate_org::store::conformance::reorg_day())
        .await
        .expect("a write after the restart succeeds");
    assert!(outcome.changed);
}
