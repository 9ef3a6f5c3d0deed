//! Orders that arrive while the database is busy are placed together, in one transaction, and
//! each keeps its own outcome (`store/postgres/gathering.rs`).
//!
//! Its own test binary: it reads process-wide metrics, which other tests would move.
//! Skipped (with a printed reason) when `POLYGATE_TEST_POSTGRES_URL` is unset, except under CI.

use std::time::Duration;

use futures::future::join_all;
use polygate_commerce::PostgresStore;
use polygate_commerce::domain::{Currency, IdempotencyKey, Quantity};
use polygate_commerce::ids::{OrderId, generate};
use polygate_commerce::orders::{PlaceOrder, place_order};
use polygate_commerce::store::conformance::{self, SimultaneousOrders};
use polygate_commerce::store::postgres::PLACING_CALLS_IN_FLIGHT;
use polygate_kit::metrics::sample;
use polygate_kit::testing::postgres::with_fresh_database;
use polygate_kit::testing::{unique_name, until};

/// A histogram's (count, sum).
fn histogram(name: &str) -> (f64, f64) {
    (
        sample(&format!("{name}_count")),
        sample(&format!("{name}_sum")),
    )
}

/// How long to wait for the orders to queue up: less than the store's 2 s lock timeout.
const QUEUE_WAIT: Duration = Duration::from_millis(1500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_arriving_while_the_database_is_busy_are_placed_together() {
    with_fresh_database("commerce_test", |url| async move {
        let store = PostgresStore::connect(&url)
            .await
            .expect("connect and migrate");
        let orders = SimultaneousOrders::prepare(&store).await;
        let busy = conformance::stocked_product(&store, "busy", 100, 10).await;
        let mut blockers = Vec::new();
        for _ in 0..PLACING_CALLS_IN_FLIGHT {
            blockers.push(conformance::create_user(&store, "busy").await);
        }

        // Busy: this transaction holds the stock row every blocker's call needs, so those calls
        // fill the slots and the five orders queue up behind them.
        let mut lock = store.pool().begin().await.unwrap();
        sqlx::query("SELECT 1 FROM inventory WHERE product_id = $1 FOR UPDATE")
            .bind(busy.id.as_i64())
            .fetch_all(&mut *lock)
            .await
            .unwrap();
        let (calls_before, orders_before) = histogram("polygate_commerce_orders_per_placing_call");

        let blocking = join_all(blockers.iter().map(|user| {
            place_order(
                &store,
                PlaceOrder {
                    user: user.id,
                    key: IdempotencyKey::parse(&unique_name("busy")).unwrap(),
                    currency: Currency::usd(),
                    lines: vec![(busy.sku.clone(), Quantity::new(1, "quantity").unwrap())],
                    ship_to: polygate_commerce::store::conformance::ship_to(),
                },
            )
        }));
        let gathered = async {
            until(
                "the blockers to wait for the stock lock",
                QUEUE_WAIT,
                async || {
                    sqlx::query_scalar::<_, i64>(
                        "SELECT count(*) FROM pg_stat_activity
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                    )
                    .fetch_one(store.pool())
                    .await
                    .unwrap()
                        >= PLACING_CALLS_IN_FLIGHT as i64
                },
            )
            .await;
            let release = async {
                until("the orders to queue", QUEUE_WAIT, async || {
                    sample("polygate_commerce_orders_waiting_to_be_placed")
                        >= SimultaneousOrders::ORDERS as f64
                })
                .await;
                lock.commit().await.unwrap();
            };
            futures::future::join(orders.place(&store), release).await.0
        };
        let (blocked, outcomes) = futures::future::join(blocking, gathered).await;

        for placed in blocked {
            placed.expect("a blocker's order is placed once the stock is free");
        }
        orders.check(&store, outcomes).await;
        let (calls, placed) = histogram("polygate_commerce_orders_per_placing_call");
        assert_eq!(
            calls - calls_before,
            PLACING_CALLS_IN_FLIGHT as f64 + 1.0,
            "one call per blocker, then one for all five orders"
        );
        assert_eq!(
            placed - orders_before,
            (PLACING_CALLS_IN_FLIGHT + SimultaneousOrders::ORDERS) as f64
        );
    })
    .await;
}

/// Inside one call, orders are placed one after another in the order given: a refused order
/// gives back what it held before the order after it looks (driven through SQL, so the order
/// inside the call is fixed).
#[tokio::test]
async fn a_refused_order_gives_back_its_units_to_the_next_order_of_the_call() {
    with_fresh_database("commerce_test", |url| async move {
        let store = PostgresStore::connect(&url)
            .await
            .expect("connect and migrate");
        let contested = conformance::stocked_product(&store, "give-back", 100, 1).await;
        let absent = conformance::stocked_product(&store, "give-back", 100, 1).await;
        sqlx::query("DELETE FROM inventory WHERE product_id = $1")
            .bind(absent.id.as_i64())
            .execute(store.pool())
            .await
            .unwrap();
        let first = conformance::create_user(&store, "give-back").await;
        let second = conformance::create_user(&store, "give-back").await;
        let orders = [
            OrderId::new(first.id.shard()),
            OrderId::new(second.id.shard()),
        ];
        // Order 1 holds `contested` (the lower id: created first), then is short of `absent`.
        let answer: Vec<(i32, String, i64)> = sqlx::query_as(
            "SELECT ord, outcome, product_id FROM place_orders_together(
                 $1, $2, ARRAY['k1', 'k2'], ARRAY['f1', 'f2'], $3, $4, ARRAY['USD', 'USD'],
                 ARRAY['[]', '[]']::JSONB[], ARRAY[1, 1, 2], $5, ARRAY[1, 1, 1], $6,
                 ARRAY[$7, $7]::JSONB[])
             ORDER BY ord",
        )
        .bind([first.id.shard() as i16, second.id.shard() as i16])
        .bind([first.id.as_i64(), second.id.as_i64()])
        .bind(orders.map(|o| o.as_i64()))
        .bind(orders.map(|o| o.created_at()))
        .bind([
            contested.id.as_i64(),
            absent.id.as_i64(),
            contested.id.as_i64(),
        ])
        .bind([
            generate(first.id.shard()),
            generate(first.id.shard()),
            generate(second.id.shard()),
        ])
        .bind(conformance::ship_to().to_json())
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert_eq!(
            answer,
            [
                (1, "short".to_owned(), absent.id.as_i64()),
                (2, "held".to_owned(), contested.id.as_i64()),
            ]
        );
        let rejected: String =
            sqlx::query_scalar("SELECT state FROM order_requests WHERE order_id = $1")
                .bind(orders[0].as_i64())
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(
            rejected, "rejected",
            "a retry of the refused order answers the same"
        );
    })
    .await;
}
