//! Reads from a real streaming replica (`e2e/servers/postgres-replica.sh`), with
//! read-your-writes: a user's reads go to the primary until the replica has replayed their write.
//!
//! The test pauses WAL replay on the replica (`pg_wal_replay_pause()`), so "the replica is
//! behind" is a fact of the test, not a race it hopes to win. Skipped (with a printed reason)
//! unless `POLYGATE_TEST_POSTGRES_URL` and `POLYGATE_TEST_POSTGRES_REPLICA_URL` are set, except
//! under CI. Tests here share one replica, so they run one at a time.

use std::time::{Duration, Instant};

use polygate_commerce::PostgresStore;
use polygate_commerce::domain::{
    Currency, DisplayName, Email, IdempotencyKey, Lines, Money, NewProduct, NewUser, PasswordHash,
    ProductName, Quantity, Restock, Sku, WarehouseCode,
};
use polygate_commerce::ids::{ProductId, UserId};
use polygate_commerce::orders::{PlaceOrder, place_order};
use polygate_commerce::store::CommerceStore;
use polygate_commerce::store::postgres::{DatabaseUrls, Topology, monitoring};
use polygate_kit::testing::postgres::{REPLICA_URL_VAR, database_url, with_fresh_database};
use polygate_kit::testing::{server_url, unique_name};
use sqlx::PgPool;

const FAKE_HASH: &str = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

/// Waits until the replica has the database the primary just created (CREATE DATABASE is
/// replayed like any other WAL record).
async fn replica_pool(url: &str) -> PgPool {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match PgPool::connect(url).await {
            Ok(pool) => return pool,
            Err(e) if Instant::now() > deadline => panic!("replica never had the database: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

async fn wait_for_replay(replica: &PgPool, primary: &PgPool) {
    let target: String = sqlx::query_scalar("SELECT pg_current_wal_insert_lsn()::TEXT")
        .fetch_one(primary)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let caught_up: bool = sqlx::query_scalar("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn")
            .bind(&target)
            .fetch_one(replica)
            .await
            .unwrap();
        if caught_up {
            return;
        }
        assert!(Instant::now() < deadline, "replica did not catch up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_user_reads_their_own_writes_while_the_replica_lags() {
    let Some(replica_admin) = server_url(REPLICA_URL_VAR) else {
        return;
    };
    with_fresh_database("commerce_replica", |url| async move {
        let name = url::Url::parse(&url)
            .unwrap()
            .path()
            .trim_start_matches('/')
            .to_owned();
        let replica_url = database_url(&replica_admin, &name);
        let mut topology = Topology::single(url.clone());
        topology.main = DatabaseUrls {
            primary: url.clone(),
            replica: Some(replica_url.clone()),
        };
        let replica = replica_pool(&replica_url).await;
        let store = PostgresStore::connect_topology(&topology).await.unwrap();
        wait_for_replay(&replica, store.pool()).await;

        // A buyer and a product, replicated.
        let mut new = NewUser::new(
            Email::parse(&format!("{}@example.com", unique_name("ryw"))).unwrap(),
            DisplayName::parse("Reader").unwrap(),
            PasswordHash::from_phc(FAKE_HASH.into()),
        );
        new.id = UserId::new(3);
        let buyer = store.create_user(new).await.unwrap().id;
        let sku = Sku::parse(&unique_name("RYW").to_uppercase()).unwrap();
        let product = store
            .create_product(NewProduct {
                id: ProductId::new(0),
                sku: sku.clone(),
                name: ProductName::parse("Replicated").unwrap(),
                description: String::new(),
                category: None,
                price: Money::new(100, Currency::usd()).unwrap(),
            })
            .await
            .unwrap();
        let warehouse = WarehouseCode::parse("RYW-1").unwrap();
        store
            .ensure_warehouse(&warehouse, "Replica test", "DE")
            .await
            .unwrap();
        store
            .restock(&Restock {
                key: IdempotencyKey::parse("ryw-stock").unwrap(),
                product: product.id,
                warehouse,
                quantity: Quantity::new(5, "quantity").unwrap(),
            })
            .await
            .unwrap();
        wait_for_replay(&replica, store.pool()).await;

        // The replica stops replaying: from here on it is behind every write.
        sqlx::query("SELECT pg_wal_replay_pause()")
            .execute(&replica)
            .await
            .unwrap();
        // Pausing is a request; wait until replay has actually stopped.
        while sqlx::query_scalar::<_, String>("SELECT pg_get_wal_replay_pause_state()")
            .fetch_one(&replica)
            .await
            .unwrap()
            != "paused"
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let resume = || async {
            sqlx::query("SELECT pg_wal_replay_resume()")
                .execute(&replica)
                .await
                .unwrap();
        };
        let order = place_order(
            &store,
            PlaceOrder {
                user: buyer,
                key: IdempotencyKey::parse("ryw-1").unwrap(),
                currency: Currency::usd(),
                lines: vec![(sku.clone(), Quantity::new(2, "quantity").unwrap())],
                ship_to: polygate_commerce::store::conformance::ship_to(),
            },
        )
        .await;
        let order = match order {
            Ok(order) => order,
            Err(e) => {
                resume().await;
                panic!("place order: {e}");
            }
        };

        // The buyer sees the order at once (served by the primary)...
        let own = store
            .order_history(buyer, 10, None, Lines::Load, Some(buyer))
            .await
            .unwrap();
        let by_id = store.orders_by_ids(&[order.id], Some(buyer)).await.unwrap();
        // ...while a read that tolerates lag goes to the replica, which has not replayed it.
        let anyone = store.orders_by_ids(&[order.id], None).await.unwrap();
        monitoring::enable_statement_stats(&store).await;
        monitoring::sample(&store).await;
        let metrics = polygate_kit::metrics::render();
        resume().await;

        let primary_now: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT now()")
            .fetch_one(store.pool())
            .await
            .unwrap();

        assert_eq!(
            own.iter().map(|o| o.id).collect::<Vec<_>>(),
            [order.id],
            "order created {} (primary clock now {primary_now}); by id {by_id:?}",
            order.created_at
        );
        assert_eq!(by_id.len(), 1);
        assert!(
            anyone.is_empty(),
            "the lag-tolerant read was served by the paused replica"
        );
        let lag_line = metrics
            .lines()
            .find(|l| l.starts_with("polygate_commerce_replica_lag_bytes{database=\"main\"}"))
            .expect("lag metric exported");
        let lag: i64 = lag_line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(lag > 0, "{lag_line}");
        // pg_stat_statements is on, so slow-statement figures are exported too.
        assert!(
            metrics.contains("polygate_commerce_slowest_statement_mean_seconds{database=\"main\"}"),
            "slow-statement metrics missing"
        );

        // Once replayed, everyone sees it from the replica.
        wait_for_replay(&replica, store.pool()).await;
        assert_eq!(
            store.orders_by_ids(&[order.id], None).await.unwrap().len(),
            1
        );
    })
    .await;
}
