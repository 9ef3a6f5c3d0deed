//! The store conformance checks on Neo4j (the test server of `e2e/servers/neo4j.sh`), all on
//! the server's one database; each check's org has ids of its own.
//!
//! Skipped (with a printed reason) when `POLYGATE_TEST_NEO4J_URL` is unset, except under the
//! test command and CI.

mod common;

use polygate_org::OrgStore as _;
use polygate_org::store::conformance;
use polygate_org::store::neo4j::migrate;

macro_rules! on_neo4j {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let Some(store) = common::neo4j_store().await else { return };
                conformance::$check(&store).await;
            }
        )*
    };
}

polygate_org::org_store_checks!(on_neo4j);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_checks_pass_on_one_connection() {
    let Some(store) = common::neo4j_store().await else {
        return;
    };
    conformance::run_all(&store).await;
}

#[tokio::test]
async fn migrations_applied_twice_apply_nothing_the_second_time() {
    let Some(store) = common::neo4j_store().await else {
        return;
    };
    // `connect` applied them; a second run finds every portable version recorded.
    let again = migrate::run(&store).await.unwrap();
    assert!(again.applied.is_empty(), "{again:?}");
    if !store.enterprise() {
        assert_eq!(again.skipped, [3], "existence constraints need Enterprise");
    }
    let and_again = migrate::run(&store).await.unwrap();
    assert_eq!(again, and_again);
}

#[tokio::test]
async fn a_write_leaves_a_bookmark_that_the_next_read_waits_for() {
    let Some(store) = common::neo4j_store().await else {
        return;
    };
    let before = store.last_bookmark();
    let org = conformance::TestOrg::loaded(&store).await;
    let first = store.last_bookmark().expect("an import leaves a bookmark");
    assert_ne!(
        before.as_ref(),
        Some(&first),
        "the import's commit has its own bookmark"
    );
    let change = polygate_org::domain::Reorg::MoveTeam {
        manager: org.id("e3"),
        new_manager: org.id("vp2"),
    };
    store
        .reorganise(&change, None, conformance::reorg_day())
        .await
        .unwrap();
    let second = store
        .last_bookmark()
        .expect("a reorganisation leaves a bookmark");
    assert_ne!(first, second, "each commit has its own bookmark");
    // The read runs in a transaction begun with `second`: it sees the move.
    let chain = store.chain_of_command(&org.id("e3")).await.unwrap();
    assert_eq!(org.names(chain.iter().map(|e| &e.id)), ["vp2", "ceo"]);
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    let settings = polygate_org::store::neo4j::Neo4jSettings::local("bolt://127.0.0.1:1");
    match polygate_org::Neo4jStore::connect(&settings).await {
        Err(polygate_org::StoreError::Unavailable(_)) => {}
        Err(other) => panic!("expected unavailable, got {other:?}"),
        Ok(_) => panic!("connected to nothing"),
    }
}

#[tokio::test]
async fn profiling_reports_db_hits_and_rows_for_every_named_query() {
    let Some(store) = common::neo4j_store().await else {
        return;
    };
    store.import(&polygate_org::chart::demo()).await.unwrap();
    let profiled = polygate_org::store::neo4j::profile::profile_all(&store)
        .await
        .unwrap();
    assert_eq!(profiled.len(), 11);
    for p in &profiled {
        assert!(p.db_hits > 0, "{}", p.render());
        assert!(!p.operators.is_empty());
        assert_eq!(p.operators[0].name, "ProduceResults", "{}", p.render());
    }
    let seeks = profiled
        .iter()
        .find(|p| p.name == "employees_by_ids")
        .unwrap();
    assert!(
        seeks
            .operators
            .iter()
            .any(|o| o.name.contains("NodeUniqueIndexSeek")),
        "{}",
        seeks.render()
    );
    let metrics = polygate_kit::metrics::render();
    assert!(metrics.contains("polygate_org_query_db_hits{query=\"subordinates\"}"));
}

#[tokio::test]
async fn a_routing_url_reads_and_writes_through_the_routing_table() {
    let Some(url) = polygate_kit::testing::server_url(common::NEO4J_URL_VAR) else {
        return;
    };
    // neo4j:// makes the driver fetch the routing table (on one server: itself in every role)
    // and route reads and writes by it, as against an Aura cluster.
    let routed = url.replacen("bolt://", "neo4j://", 1);
    let store = polygate_org::Neo4jStore::connect(
        &polygate_org::store::neo4j::Neo4jSettings::local(&routed),
    )
    .await
    .expect("connect through the routing table");
    let org = conformance::TestOrg::loaded(&store).await;
    let chain = store.chain_of_command(&org.id("e6")).await.unwrap();
    assert_eq!(chain.len(), 4);
}
