//! The store conformance checks on SQLite, each on its own database file.

use polygate_kit::testing::ScratchDir;
use polygate_telemetry::store::conformance;
use polygate_telemetry::{SqliteStore, TelemetryStore};

/// A store on a fresh file; the folder goes when the returned `ScratchDir` is dropped.
async fn fresh() -> (ScratchDir, SqliteStore) {
    let dir = ScratchDir::new("telemetry_sqlite");
    let store = SqliteStore::open(&dir.path().join("telemetry.db"))
        .await
        .expect("open and migrate");
    (dir, store)
}

macro_rules! on_sqlite {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (_dir, store) = fresh().await;
                conformance::$check(&store).await;
            }
        )*
    };
}

polygate_telemetry::telemetry_store_checks!(on_sqlite);

#[tokio::test]
async fn all_checks_pass_on_one_database() {
    let (_dir, store) = fresh().await;
    conformance::run_all(&store).await;
}

#[tokio::test]
async fn migrating_an_up_to_date_database_applies_nothing() {
    let (_dir, store) = fresh().await;
    assert_eq!(
        polygate_telemetry::migrate::sqlite(store.pool())
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.engine(), "sqlite");
}
