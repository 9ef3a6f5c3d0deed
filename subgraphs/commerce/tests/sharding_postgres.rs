//! Sharding over two physical PostgreSQL servers: placement by the shard in the id, bounded
//! scatter-gather, and moving a logical shard under concurrent writes without losing or
//! duplicating an order.
//!
//! Skipped (with a printed reason) unless both `POLYGATE_TEST_POSTGRES_URL` and
//! `POLYGATE_TEST_POSTGRES2_URL` are set, except under CI.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use polygate_commerce::PostgresStore;
use polygate_commerce::domain::{
    Currency, DisplayName, Email, IdempotencyKey, LineRequest, Money, NewProduct, NewUser,
    OrderRequest, PasswordHash, PlacedAtOnce, ProductName, Quantity, Reservation, Restock, Sku,
    WarehouseCode,
};
use polygate_commerce::ids::{OrderId, ProductId, UserId};
use polygate_commerce::orders::{PlaceOrder, place_order};
use polygate_commerce::store::postgres::shard_move::{
    move_shard, purge_moved_shard, rows_of_shard,
};
use polygate_commerce::store::postgres::{DatabaseUrls, MAP_REFRESH, Topology};
use polygate_commerce::store::{CommerceStore, conformance};
use polygate_kit::testing::postgres::{SECOND_URL_VAR, URL_VAR, with_fresh_databases};
use polygate_kit::testing::unique_name;

const FAKE_HASH: &str = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

fn two_databases(urls: &[String]) -> Topology {
    let mut topology = Topology::single(urls[0].clone());
    topology
        .shards
        .insert("b".into(), DatabaseUrls::primary(urls[1].clone()));
    topology
}

async fn user_on(store: &dyn CommerceStore, shard: u16) -> UserId {
    let email = Email::parse(&format!("{}@example.com", unique_name("shard"))).unwrap();
    let mut new = NewUser::new(
        email,
        DisplayName::parse("Sharded").unwrap(),
        PasswordHash::from_phc(FAKE_HASH.into()),
    );
    new.id = UserId::new(shard);
    store.create_user(new).await.expect("create user").id
}

/// A product with `stock` units in one warehouse.
async fn stocked_product(store: &dyn CommerceStore, stock: i32) -> Sku {
    let sku = Sku::parse(&unique_name("SKU").to_uppercase()).unwrap();
    let product = store
        .create_product(NewProduct {
            id: ProductId::new(0),
            sku: sku.clone(),
            name: ProductName::parse("Sharded widget").unwrap(),
            description: String::new(),
            category: None,
            price: Money::new(250, Currency::usd()).unwrap(),
        })
        .await
        .expect("create product");
    let warehouse = WarehouseCode::parse("SHARD-1").unwrap();
    store
        .ensure_warehouse(&warehouse, "Shard test", "DE")
        .await
        .unwrap();
    store
        .restock(&Restock {
            key: IdempotencyKey::parse(&unique_name("restock")).unwrap(),
            product: product.id,
            warehouse,
            quantity: Quantity::new(stock, "quantity").unwrap(),
        })
        .await
        .unwrap();
    sku
}

async fn buy(store: &dyn CommerceStore, user: UserId, sku: &Sku, key: &str) -> OrderId {
    place_order(
        store,
        PlaceOrder {
            user,
            key: IdempotencyKey::parse(key).unwrap(),
            currency: Currency::usd(),
            lines: vec![(sku.clone(), Quantity::new(1, "quantity").unwrap())],
            ship_to: polygate_commerce::store::conformance::ship_to(),
        },
    )
    .await
    .expect("place order")
    .id
}

#[tokio::test]
async fn rows_live_on_the_database_that_holds_their_shard() {
    with_fresh_databases(
        "commerce_shards",
        &[URL_VAR, SECOND_URL_VAR],
        |urls| async move {
            let store = PostgresStore::connect_topology(&two_databases(&urls))
                .await
                .unwrap();
            move_shard(&store, 7, "b").await.expect("move shard 7");
            purge_moved_shard(&store, 7).await.expect("purge");
            assert_eq!(store.home_of(7), "b");
            assert_eq!(store.home_of(8), "main");

            let sku = stocked_product(&store, 100).await;
            let on_b = user_on(&store, 7).await;
            let on_main = user_on(&store, 8).await;
            let order_b = buy(&store, on_b, &sku, "k-b").await;
            let order_main = buy(&store, on_main, &sku, "k-main").await;
            assert_eq!(order_b.shard(), 7, "an order carries its buyer's shard");

            let b = store.database("b").unwrap();
            let main = store.database("main").unwrap();
            let count = |rows: Vec<(&str, u64)>, table: &str| {
                rows.iter()
                    .find(|(t, _)| *t == table)
                    .map(|(_, n)| *n)
                    .unwrap()
            };
            assert_eq!(
                count(rows_of_shard(&b.primary, 7).await.unwrap(), "orders"),
                1
            );
            assert_eq!(
                count(rows_of_shard(&main.primary, 7).await.unwrap(), "orders"),
                0
            );
            assert_eq!(
                count(rows_of_shard(&main.primary, 8).await.unwrap(), "orders"),
                1
            );

            // Reads route by id; the admin listing gathers both databases in id order.
            let found = store
                .orders_by_ids(&[order_b, order_main], None)
                .await
                .unwrap();
            assert_eq!(found.len(), 2);
            let listed: Vec<UserId> = store
                .list_users(100, None)
                .await
                .unwrap()
                .iter()
                .map(|u| u.id)
                .collect();
            assert!(listed.contains(&on_b) && listed.contains(&on_main));
            assert!(listed.windows(2).all(|w| w[0] < w[1]));
            assert_eq!(store.list_users(1, None).await.unwrap().len(), 1, "bounded");

            // Moving shard 8 too, before its old copy is purged: the listing still shows every
            // user once and pages without gaps, though `main` holds a stale copy of shard 8.
            let more: Vec<UserId> = {
                let mut more = Vec::new();
                for _ in 0..5 {
                    more.push(user_on(&store, 8).await);
                }
                more
            };
            move_shard(&store, 8, "b").await.expect("move shard 8");
            let mut walked = Vec::new();
            let mut after = None;
            loop {
                let page = store.list_users(2, after).await.unwrap();
                let Some(last) = page.last() else { break };
                after = Some(last.id);
                walked.extend(page.iter().map(|u| u.id));
            }
            let mut expected = vec![on_b, on_main];
            expected.extend(more);
            expected.sort();
            assert_eq!(
                walked, expected,
                "each user once, in id order, during the grace window"
            );
            purge_moved_shard(&store, 8).await.expect("purge shard 8");

            // Sign-in finds a user on either database through the email index.
            let user_b = store.users_by_ids(&[on_b]).await.unwrap().remove(0);
            let found = store
                .user_by_email(&user_b.email)
                .await
                .unwrap()
                .expect("found");
            assert_eq!(found.user.id, on_b);
        },
    )
    .await;
}

/// A buyer whose shard lives in the catalog database is served in one transaction; a buyer whose
/// shard moved to another database gets the saga, even from a router that has not yet seen the
/// move (the function's fence refuses, the router reloads its map).
#[tokio::test]
async fn one_transaction_only_where_shard_and_catalog_share_a_database() {
    with_fresh_databases(
        "commerce_shards",
        &[URL_VAR, SECOND_URL_VAR],
        |urls| async move {
            let store = PostgresStore::connect_topology(&two_databases(&urls))
                .await
                .unwrap();
            let stale = PostgresStore::connect_topology(&two_databases(&urls))
                .await
                .unwrap();
            let sku = stocked_product(&store, 10).await;
            let product = store
                .products_by_skus(std::slice::from_ref(&sku), None)
                .await
                .unwrap()[0]
                .id;
            let at_home = user_on(&store, 5).await;
            let moved = user_on(&store, 6).await;
            move_shard(&store, 6, "b").await.expect("move shard 6");
            let request = |user: UserId, key: &str| {
                let line = LineRequest {
                    product,
                    quantity: Quantity::new(1, "quantity").unwrap(),
                };
                let key = IdempotencyKey::parse(key).unwrap();
                OrderRequest::new(
                    user,
                    key,
                    Currency::usd(),
                    vec![line],
                    polygate_commerce::store::conformance::ship_to(),
                )
            };

            let first = request(at_home, "once");
            let placed = store.place_order_at_once(&first).await.unwrap();
            assert!(
                matches!(placed, Some(PlacedAtOnce::New(Reservation::Held(_)))),
                "{placed:?}"
            );
            let again = store
                .place_order_at_once(&request(at_home, "once"))
                .await
                .unwrap();
            assert_eq!(again, Some(PlacedAtOnce::KeyUsed));
            let retried = buy(&store, at_home, &sku, "once").await;
            assert_eq!(
                retried, first.order_id,
                "a retry finds the order placed at once"
            );

            let old_home_before = rows_of_shard(store.pool(), 6).await.unwrap();
            for router in [&store, &stale] {
                let outcome = router
                    .place_order_at_once(&request(moved, "away"))
                    .await
                    .unwrap();
                assert_eq!(
                    outcome, None,
                    "the saga runs for a shard on another database"
                );
            }
            assert_eq!(
                rows_of_shard(store.pool(), 6).await.unwrap(),
                old_home_before,
                "nothing was written to the old home"
            );
            let away = buy(&stale, moved, &sku, "away").await;
            assert_eq!(
                store.orders_by_ids(&[away], None).await.unwrap().len(),
                1,
                "the saga placed it on the shard's new home"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn every_conformance_check_passes_on_a_sharded_store() {
    with_fresh_databases(
        "commerce_shards",
        &[URL_VAR, SECOND_URL_VAR],
        |urls| async move {
            let store = PostgresStore::connect_topology(&two_databases(&urls))
                .await
                .unwrap();
            // Half of the shards live on the second server.
            for shard in (0..polygate_commerce::ids::LOGICAL_SHARDS).step_by(2) {
                move_shard(&store, shard, "b").await.unwrap();
            }
            conformance::run_all(&store).await;
        },
    )
    .await;
}

#[tokio::test]
async fn moving_a_shard_under_writes_loses_and_duplicates_nothing() {
    with_fresh_databases(
        "commerce_shards",
        &[URL_VAR, SECOND_URL_VAR],
        |urls| async move {
            let topology = two_databases(&urls);
            // Two routers, as two gateway processes would be: one moves, the other keeps writing
            // with a map that goes stale mid-way.
            let mover = PostgresStore::connect_topology(&topology).await.unwrap();
            let writer = Arc::new(PostgresStore::connect_topology(&topology).await.unwrap());
            const SHARD: u16 = 42;
            let sku = stocked_product(writer.as_ref(), 10_000).await;
            let mut buyers = Vec::new();
            for _ in 0..4 {
                buyers.push(user_on(writer.as_ref(), SHARD).await);
            }

            let moved = Arc::new(AtomicBool::new(false));
            let writers: Vec<_> = buyers
                .iter()
                .enumerate()
                .map(|(n, buyer)| {
                    let (writer, sku, moved, buyer) =
                        (writer.clone(), sku.clone(), moved.clone(), *buyer);
                    tokio::spawn(async move {
                        let mut placed = Vec::new();
                        let mut after_move = 0;
                        // Keep buying until well after the move finished.
                        while after_move < 10 {
                            let key = format!("buyer{n}-{}", placed.len());
                            placed.push(buy(writer.as_ref(), buyer, &sku, &key).await);
                            if moved.load(Ordering::SeqCst) {
                                after_move += 1;
                            }
                        }
                        placed
                    })
                })
                .collect();
            let reader = Arc::new(PostgresStore::connect_topology(&topology).await.unwrap());
            let refresh = tokio::spawn(reader.refresh_map());
            assert_eq!(reader.home_of(SHARD), "main");
            tokio::time::sleep(Duration::from_millis(300)).await;
            let report = move_shard(&mover, SHARD, "b").await.expect("move");
            moved.store(true, Ordering::SeqCst);
            let mut placed = Vec::new();
            for task in writers {
                placed.extend(task.await.unwrap());
            }
            // A router that only reads learns of the move from its periodic map refresh.
            tokio::time::sleep(MAP_REFRESH + Duration::from_millis(500)).await;
            assert_eq!(
                reader.home_of(SHARD),
                "b",
                "the reader's map followed the move"
            );
            refresh.abort();
            // The writer learnt of the move from the fence, the reader from its refresh: now the
            // old copy can go.
            let purged = purge_moved_shard(&mover, SHARD).await.expect("purge");
            assert!(
                purged.iter().any(|(db, rows)| db == "main" && *rows > 0),
                "{purged:?}"
            );

            eprintln!(
                "moved while writing: {report:?}; {} orders acknowledged",
                placed.len()
            );
            let copied_orders = report
                .copied
                .iter()
                .find(|(t, _)| *t == "orders")
                .unwrap()
                .1;
            assert!(
                copied_orders > 0,
                "orders existed before the move: {report:?}"
            );
            let unique: HashSet<OrderId> = placed.iter().copied().collect();
            assert_eq!(unique.len(), placed.len(), "no order id handed out twice");

            let b = mover.database("b").unwrap();
            let main = mover.database("main").unwrap();
            let on_b = rows_of_shard(&b.primary, SHARD).await.unwrap();
            let on_main = rows_of_shard(&main.primary, SHARD).await.unwrap();
            assert!(
                on_main.iter().all(|(_, n)| *n == 0),
                "old home emptied: {on_main:?}"
            );
            let orders_on_b = on_b.iter().find(|(t, _)| *t == "orders").unwrap().1;
            assert_eq!(
                orders_on_b as usize,
                placed.len(),
                "every acknowledged order, once"
            );

            // Every acknowledged order reads back, through the router whose map went stale.
            let found = writer.orders_by_ids(&placed, None).await.unwrap();
            assert_eq!(found.len(), placed.len());
            // Stock was held exactly once per order.
            let product = writer
                .products_by_skus(&[sku], None)
                .await
                .unwrap()
                .remove(0);
            assert_eq!(product.available, 10_000 - placed.len() as i64);
        },
    )
    .await;
}
