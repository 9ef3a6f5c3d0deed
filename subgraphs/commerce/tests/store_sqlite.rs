//! The store conformance checks on SQLite, each on its own database file.

mod common;

use polygate_commerce::CommerceStore;
use polygate_commerce::store::conformance;

/// One test per conformance check, each on a fresh file, on a multi-threaded runtime so that
/// concurrent store calls (the 50 buyers) really overlap.
macro_rules! on_sqlite {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                conformance::$check(common::sqlite_store().await.as_ref()).await;
            }
        )*
    };
}

polygate_commerce::commerce_store_checks!(on_sqlite);

#[tokio::test]
async fn all_checks_pass_on_one_database() {
    conformance::run_all(common::sqlite_store().await.as_ref()).await;
}

#[tokio::test]
async fn connect_creates_the_file_and_reopening_does_not_migrate_again() {
    let dir = std::env::temp_dir().join(polygate_kit::testing::unique_name("commerce_reopen"));
    let url = format!(
        "sqlite://{}",
        dir.join("nested").join("commerce.db").display()
    );
    let first = polygate_commerce::connect(&url)
        .await
        .expect("first connect");
    conformance::create_then_find_by_email(first.as_ref()).await;
    drop(first);
    let again = polygate_commerce::connect(&url)
        .await
        .expect("second connect");
    assert_eq!(
        again.list_users(100, None).await.unwrap().len(),
        1,
        "data survives"
    );
    assert!(dir.join("nested").join("commerce.db").exists());
}

#[tokio::test]
async fn migrating_an_up_to_date_database_applies_nothing() {
    let store = common::sqlite_store().await;
    let applied = polygate_commerce::migrate::sqlite(store.pool())
        .await
        .unwrap();
    assert_eq!(applied, 0);
}

#[tokio::test]
async fn the_schema_refuses_oversold_stock_and_duplicate_skus() {
    let store = common::sqlite_store().await;
    let pool = store.pool();
    sqlx::raw_sql(
        "INSERT INTO products (id, sku, name, created_at) VALUES (1, 'SKU-1', 'Widget', 0);
         INSERT INTO warehouses (id, code, name, country) VALUES (1, 'BER-1', 'Berlin', 'DE');
         INSERT INTO inventory (product_id, warehouse_id, on_hand, reserved, updated_at)
         VALUES (1, 1, 5, 5, 0);",
    )
    .execute(pool)
    .await
    .expect("valid rows");
    for bad in [
        "UPDATE inventory SET reserved = 6",
        "UPDATE inventory SET on_hand = -1, reserved = 0",
        "INSERT INTO products (id, sku, name, created_at) VALUES (2, 'SKU-1', 'Twin', 0)",
        "INSERT INTO inventory (product_id, warehouse_id, on_hand, reserved, updated_at)
         VALUES (99, 1, 1, 0, 0)",
    ] {
        assert!(sqlx::query(bad).execute(pool).await.is_err(), "{bad}");
    }
}

/// The `commerce_inventory_drift` view finds a stock row whose `reserved` is not the total of
/// its held reservations, and nothing once they agree again.
#[tokio::test]
async fn inventory_drift_finds_a_reserved_count_that_disagrees_with_its_reservations() {
    let store = common::sqlite_store().await;
    let (_, product, _) = conformance::pending_order(store.as_ref(), "drift", 2).await;
    assert!(store.inventory_drift().await.unwrap().is_empty());
    let nudge = |delta: i64| {
        sqlx::query("UPDATE inventory SET reserved = reserved + ? WHERE product_id = ?")
            .bind(delta)
            .bind(product.id.as_i64())
    };
    nudge(1).execute(store.pool()).await.unwrap();
    let drift = store.inventory_drift().await.unwrap();
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert_eq!(
        (drift[0].product, drift[0].reserved, drift[0].held),
        (product.id, 3, 2)
    );
    nudge(-1).execute(store.pool()).await.unwrap();
    assert!(store.inventory_drift().await.unwrap().is_empty());
}

/// An order row must carry a real address snapshot: `{}` is refused by the schema itself.
#[tokio::test]
async fn an_order_without_an_address_is_refused_by_the_schema() {
    let store = common::sqlite_store().await;
    let refused = sqlx::query(
        "INSERT INTO orders (id, user_id, currency, total_minor, ship_to, created_at)
         VALUES (1, 1, 'EUR', 1, '{}', 0)",
    )
    .execute(store.pool())
    .await
    .unwrap_err();
    assert!(
        refused.to_string().contains("ship_to must be an address"),
        "{refused}"
    );
}

/// The embedded store's upkeep needs no election (one process owns the file): a tick always
/// runs the pass, which archives and checks the counters (there are no partitions).
#[tokio::test]
async fn the_embedded_store_runs_its_upkeep_without_an_election() {
    let store = common::sqlite_store().await;
    let dyn_store: std::sync::Arc<dyn CommerceStore> = store.clone();
    let scheduler = polygate_commerce::upkeep::Scheduler::new(
        dyn_store,
        None,
        polygate_commerce::upkeep::UpkeepSettings::default(),
    );
    let in_a_year = chrono::Utc::now() + chrono::Duration::days(365);
    let (_, _, order) = conformance::pending_order(store.as_ref(), "upkeep", 1).await;
    polygate_commerce::orders::cancel_order(store.as_ref(), order.id)
        .await
        .unwrap();
    match scheduler.tick(in_a_year).await.unwrap() {
        polygate_commerce::upkeep::Tick::Led(report) => {
            assert!(report.partitions.is_empty());
            assert_eq!(report.archived.requests, 1, "{report:?}");
            assert_eq!(report.archived.reservations, 1, "{report:?}");
            assert_eq!(report.drift_rows, 0);
        }
        other => panic!("the embedded store always leads: {other:?}"),
    }
}
