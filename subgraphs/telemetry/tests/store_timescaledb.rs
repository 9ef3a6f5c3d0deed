//! The store conformance checks on TimescaleDB (Apache-2 edition: hypertables and our own
//! rollup job), each on a database created for it and dropped after; and the same server with
//! `timescaledb = "off"`, which must keep to plain partitions.
//!
//! Skipped (with a printed reason) when `POLYGATE_TEST_TIMESCALEDB_URL` is unset, except under CI.

use std::future::Future;

use polygate_kit::testing::postgres::with_fresh_databases;
use polygate_telemetry::store::{Edition, PostgresStore, conformance};
use polygate_telemetry::{TelemetrySettings, TelemetryStore};

const URL_VAR: &str = "POLYGATE_TEST_TIMESCALEDB_URL";

async fn on_fresh_database<F, Fut>(check: F)
where
    F: FnOnce(PostgresStore) -> Fut,
    Fut: Future<Output = ()>,
{
    with_fresh_databases("telemetry_ts", &[URL_VAR], |mut urls| async move {
        let store = PostgresStore::connect(&urls.remove(0), &TelemetrySettings::default())
            .await
            .expect("connect and migrate");
        assert_eq!(store.edition(), Edition::TimescaleApache);
        check(store).await;
    })
    .await;
}

macro_rules! on_timescaledb {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                on_fresh_database(|s| async move { conformance::$check(&s).await }).await;
            }
        )*
    };
}

polygate_telemetry::telemetry_store_checks!(on_timescaledb);

#[tokio::test]
async fn all_checks_pass_on_one_database() {
    on_fresh_database(|s| async move { conformance::run_all(&s).await }).await;
}

#[tokio::test]
async fn the_readings_tables_are_hypertables_chunked_by_day() {
    on_fresh_database(|s| async move {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT hypertable_name::text, time_interval::text FROM timescaledb_information.dimensions
             WHERE hypertable_name IN ('cpu', 'mem', 'disk', 'net', 'cpu_1m', 'cpu_1h') ORDER BY 1",
        )
        .fetch_all(s.pool())
        .await
        .unwrap();
        assert_eq!(
            rows,
            [
                ("cpu".into(), "1 day".into()),
                ("cpu_1h".into(), "90 days".into()),
                ("cpu_1m".into(), "7 days".into()),
                ("disk".into(), "1 day".into()),
                ("mem".into(), "1 day".into()),
                ("net".into(), "1 day".into()),
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn timescaledb_off_keeps_plain_partitions_on_a_timescaledb_server() {
    with_fresh_databases("telemetry_ts_off", &[URL_VAR], |mut urls| async move {
        let settings = TelemetrySettings {
            timescaledb: "off".into(),
            ..TelemetrySettings::default()
        };
        let url = urls.remove(0);
        let store = PostgresStore::connect(&url, &settings).await.unwrap();
        assert_eq!(store.edition(), Edition::Postgres);
        conformance::series_answer_the_same_from_rollups_as_from_raw_readings(&store).await;
        drop(store);
        // The same database opened with TimescaleDB wanted is refused, not mixed.
        let err = PostgresStore::connect(&url, &TelemetrySettings::default())
            .await
            .err()
            .expect("refused");
        assert!(
            format!("{err:#}").contains("set up for postgres"),
            "{err:#}"
        );
    })
    .await;
}
