//! The store conformance checks on SQLite, each on its own database file.

use polygate_telemetry::store::conformance;
use polygate_telemetry::{SqliteStore, TelemetryStore};

async fn fresh() -> SqliteStore {
    let dir = std::env::temp_dir().join(polygate_kit::testing::unique_name("telemetry_sqlite"));
    SqliteStore::open(&dir.join("telemetry.db"))
        .await
        .expect("open and migrate")
}

macro_rules! on_sqlite {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                conformance::$check(&fresh().await).await;
            }
        )*
    };
}

polygate_telemetry::telemetry_store_checks!(on_sqlite);

#[tokio::test]
async fn all_checks_pass_on_one_database() {
    conformance::run_all(&fresh().await).await;
}

#[tokio::test]
async fn migrating_an_up_to_date_database_applies_nothing() {
    let store = fresh().await;
    assert_eq!(
        polygate_telemetry::migrate::sqlite(store.pool())
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.engine(), "sqlite");
}
