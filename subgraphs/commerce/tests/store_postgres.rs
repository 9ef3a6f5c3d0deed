//! The store conformance checks on Postgres, each on a database created for it and dropped after.
//!
//! Skipped (with a printed reason) when `POLYGATE_TEST_POSTGRES_URL` is unset, except under CI.

use std::future::Future;

use polygate_commerce::store::conformance;
use polygate_commerce::{CommerceStore, PostgresStore};
use polygate_kit::testing::postgres::with_fresh_database;

/// Runs `check` on a migrated store over a database created for it (dropped afterwards).
async fn on_fresh_database<F, Fut>(check: F)
where
    F: FnOnce(PostgresStore) -> Fut,
    Fut: Future<Output = ()>,
{
    with_fresh_database("commerce_test", |url| async move {
        let store = PostgresStore::connect(&url)
            .await
            .expect("connect and migrate");
        check(store).await;
    })
    .await;
}

/// One test per conformance check, each on a database of its own, on a multi-threaded runtime
/// so that concurrent store calls (the 50 buyers) really overlap.
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

polygate_commerce::commerce_store_checks!(on_postgres);

#[tokio::test]
async fn all_checks_pass_on_one_database() {
    on_fresh_database(|s| async move { conformance::run_all(&s).await }).await;
}

#[tokio::test]
async fn migrating_an_up_to_date_database_applies_nothing() {
    on_fresh_database(|s| async move {
        assert_eq!(
            polygate_commerce::migrate::postgres(s.pool())
                .await
                .unwrap(),
            0
        );
        assert_eq!(s.engine(), "postgres");
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_server_names_the_url_without_its_password() {
    let err = polygate_commerce::connect("postgres://app:hunter2@127.0.0.1:1/commerce")
        .await
        .err()
        .expect("connection refused");
    let message = format!("{err:#}");
    assert!(
        message.contains("postgres://app@127.0.0.1:1/commerce"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
async fn the_schema_refuses_oversold_stock_and_duplicate_skus() {
    on_fresh_database(|s| async move {
        let pool = s.pool();
        sqlx::raw_sql(
            "INSERT INTO products (id, sku, name) VALUES (1, 'SKU-1', 'Widget');
             INSERT INTO warehouses (id, code, name, country) VALUES (1, 'BER-1', 'Berlin', 'DE');
             INSERT INTO inventory (product_id, warehouse_id, on_hand, reserved)
             VALUES (1, 1, 5, 5);
             INSERT INTO prices (id, product_id, currency, amount_minor, valid_from)
             VALUES (1, 1, 'EUR', 900, now() - interval '2 days'),
                    (2, 1, 'EUR', 1000, now() - interval '1 day'),
                    (3, 1, 'EUR', 1100, now() + interval '1 day');",
        )
        .execute(pool)
        .await
        .expect("valid rows");
        let current: i64 = sqlx::query_scalar(
            "SELECT amount_minor FROM current_prices WHERE product_id = 1 AND currency = 'EUR'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(current, 1000);
        for bad in [
            "UPDATE inventory SET reserved = 6",
            "UPDATE inventory SET on_hand = -1, reserved = 0",
            "INSERT INTO products (id, sku, name) VALUES (2, 'SKU-1', 'Twin')",
            "INSERT INTO prices (id, product_id, currency, amount_minor, valid_from)
             VALUES (4, 1, 'eur', 1, now())",
        ] {
            assert!(sqlx::query(bad).execute(pool).await.is_err(), "{bad}");
        }
    })
    .await;
}

/// `commerce_inventory_drift()` finds a stock row whose `reserved` is not the total of its held
/// reservations, in both directions, and nothing once they agree again.
#[tokio::test]
async fn inventory_drift_finds_a_reserved_count_that_disagrees_with_its_reservations() {
    on_fresh_database(|s| async move {
        let (_, product, _) = conformance::pending_order(&s, "drift", 2).await;
        assert!(s.inventory_drift().await.unwrap().is_empty());
        let nudge = |delta: i64| {
            sqlx::query("UPDATE inventory SET reserved = reserved + $2 WHERE product_id = $1")
                .bind(product.id.as_i64())
                .bind(delta)
        };
        nudge(1).execute(s.pool()).await.unwrap();
        let drift = s.inventory_drift().await.unwrap();
        assert_eq!(drift.len(), 1, "{drift:?}");
        assert_eq!(
            (drift[0].product, drift[0].reserved, drift[0].held),
            (product.id, 3, 2)
        );
        nudge(-2).execute(s.pool()).await.unwrap();
        let drift = s.inventory_drift().await.unwrap();
        assert_eq!(
            (drift[0].reserved, drift[0].held),
            (1, 2),
            "fewer reserved than held"
        );
        nudge(1).execute(s.pool()).await.unwrap();
        assert!(s.inventory_drift().await.unwrap().is_empty());
    })
    .await;
}

/// An order row must carry a real address snapshot: `{}` is refused by the schema itself.
#[tokio::test]
async fn an_order_without_an_address_is_refused_by_the_schema() {
    on_fresh_database(|s| async move {
        let refused = sqlx::query(
            "INSERT INTO orders (id, user_id, currency, total_minor, ship_to, created_at)
             VALUES (1, 1, 'EUR', 1, '{}', now())",
        )
        .execute(s.pool())
        .await
        .unwrap_err();
        assert!(
            refused.to_string().contains("orders_ship_to_is_an_address"),
            "{refused}"
        );
    })
    .await;
}
