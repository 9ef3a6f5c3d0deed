//! The Postgres adapter through PgBouncer in transaction pooling mode (Debian's 1.18,
//! `e2e/servers/pgbouncer.sh`) in front of the test server: what breaks with sqlx's prepared
//! statements, and the conformance suite passing with `transaction_pooler` set.
//!
//! Skipped (with a printed reason) without `POLYGATE_TEST_PGBOUNCER_URL` (and the server's own
//! `POLYGATE_TEST_POSTGRES_URL`, which creates the test databases), except under CI.

use polygate_commerce::PostgresStore;
use polygate_commerce::store::conformance;
use polygate_commerce::store::postgres::Topology;
use polygate_kit::testing::postgres::with_fresh_database;
use polygate_kit::testing::server_url;
use sqlx::Connection as _;

const VAR: &str = "POLYGATE_TEST_PGBOUNCER_URL";

/// The URL of `database_url`'s database through PgBouncer, whose `*` entry reaches every
/// database of the server.
fn through_pgbouncer(bouncer: &str, database_url: &str) -> String {
    let direct = url::Url::parse(database_url).expect("a database URL");
    let mut url = url::Url::parse(bouncer).expect("the PgBouncer URL");
    url.set_path(direct.path());
    url.to_string()
}

/// What breaks: sqlx prepares every statement under a name counted per client connection
/// (`sqlx_s_1`, …) and caches it, expecting it on "its" server connection. In transaction mode
/// PgBouncer hands each transaction to whichever server connection is free, so two clients soon
/// meet the other's statements: "prepared statement \"sqlx_s_1\" already exists" or "does not
/// exist".
#[tokio::test]
async fn plain_sqlx_connections_trip_over_each_others_prepared_statements() {
    let Some(bouncer) = server_url(VAR) else {
        return;
    };
    with_fresh_database("commerce_bouncer", |direct| async move {
        let url = through_pgbouncer(&bouncer, &direct);
        let mut a = sqlx::PgConnection::connect(&url).await.unwrap();
        let mut b = sqlx::PgConnection::connect(&url).await.unwrap();
        let mut failures = Vec::new();
        for n in 0..20_i64 {
            for conn in [&mut a, &mut b] {
                let asked = sqlx::query_scalar::<_, i64>("SELECT $1::BIGINT + 1")
                    .bind(n)
                    .fetch_one(&mut *conn)
                    .await;
                if let Err(e) = asked {
                    failures.push(e.to_string());
                }
            }
        }
        assert!(
            failures
                .iter()
                .any(|e| e.contains("prepared statement \"sqlx_s_")),
            "expected prepared-statement errors through transaction pooling, got {failures:?}"
        );
    })
    .await;
}

/// How it is handled: `transaction_pooler` (no statement cache, every use of a connection a
/// transaction of its own with its timeouts, writes committed explicitly) with PgBouncer's
/// `server_reset_query = DEALLOCATE ALL` after every transaction. Every conformance check passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_conformance_check_passes_through_pgbouncer_in_transaction_mode() {
    let Some(bouncer) = server_url(VAR) else {
        return;
    };
    with_fresh_database("commerce_bouncer", |direct| async move {
        let mut topology = Topology::single(through_pgbouncer(&bouncer, &direct));
        topology.transaction_pooler = true;
        let store = PostgresStore::connect_topology(&topology)
            .await
            .expect("connect and migrate through PgBouncer");
        conformance::run_all(&store).await;

        // The timeouts PgBouncer dropped from the start-up packet are set per transaction.
        let timeout: String = sqlx::query_scalar("SELECT current_setting('statement_timeout')")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(timeout, "5s");
    })
    .await;
}
