//! The store conformance checks on plain PostgreSQL (range partitions and our own rollup job),
//! each on a database created for it and dropped after.
//!
//! Skipped (with a printed reason) when `POLYGATE_TEST_POSTGRES_URL` is unset, except under CI.

use std::future::Future;

use polygate_kit::testing::postgres::with_fresh_database;
use polygate_telemetry::store::{Edition, PostgresStore, conformance};
use polygate_telemetry::{TelemetrySettings, TelemetryStore};

async fn on_fresh_database<F, Fut>(check: F)
where
    F: FnOnce(PostgresStore) -> Fut,
    Fut: Future<Output = ()>,
{
    with_fresh_database("telemetry_pg", |url| async move {
        let store = PostgresStore::connect(&url, &TelemetrySettings::default())
            .await
            .expect("connect and migrate");
        assert_eq!(store.edition(), Edition::Postgres);
        check(store).await;
    })
    .await;
}

macro_rules! on_postgres {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                on_fresh_database(|s| async move { conformance::$check(&s).await }).await;
            }
        )*
    };
}

polygate_telemetry::telemetry_store_checks!(on_postgres);

#[tokio::test]
async fn all_checks_pass_on_one_database() {
    on_fresh_database(|s| async move { conformance::run_all(&s).await }).await;
}

#[tokio::test]
async fn migrating_an_up_to_date_database_applies_nothing() {
    on_fresh_database(|s| async move {
        let applied = polygate_telemetry::migrate::postgres(s.pool(), Edition::Postgres)
            .await
            .unwrap();
        assert_eq!(applied, 0);
        assert_eq!(s.engine(), "postgres");
    })
    .await;
}
