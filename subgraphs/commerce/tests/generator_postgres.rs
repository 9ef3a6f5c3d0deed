//! The bench data generator on real PostgreSQL: the same seed loads the same rows, rows land in
//! the database that holds their shard, the rows reference each other, and a second run into
//! the same store is refused.
//!
//! Skipped (with a printed reason) unless `POLYGATE_TEST_POSTGRES_URL` is set (and, for the
//! two-database test, `POLYGATE_TEST_POSTGRES2_URL`), except under CI.

use chrono::{NaiveDate, TimeZone, Utc};
use polygate_commerce::generator::{BENCH_PASSWORD, Spec, generate};
use polygate_commerce::ids::{LOGICAL_SHARDS, shard_of};
use polygate_commerce::store::postgres::shard_move::move_shard;
use polygate_commerce::store::postgres::{DatabaseUrls, MAIN, Topology};
use polygate_commerce::{PasswordHash, PasswordHasher, PostgresStore};
use polygate_kit::testing::postgres::{
    SECOND_URL_VAR, URL_VAR, with_fresh_database, with_fresh_databases,
};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

fn spec(seed: u64) -> Spec {
    Spec {
        users: 700,
        orders: 5_000,
        products: 40,
        seed,
        until: Utc.from_utc_datetime(
            &NaiveDate::from_ymd_opt(2026, 11, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
        ),
    }
}

/// Every generated table with the columns that define its rows. `users.password_hash` is left
/// out: it is one hash with a fresh salt per run.
const SHARD_TABLES: [(&str, &str); 3] = [
    ("users", "id, email, name, staff, created_at"),
    (
        "orders",
        "id, user_id, status, currency, total_minor, ship_to, created_at",
    ),
    (
        "order_items",
        "id, order_id, created_at, product_id, sku, quantity, unit_price_minor, currency",
    ),
];
const CATALOG_TABLES: [(&str, &str); 5] = [
    ("products", "id, sku, name, description, active, created_at"),
    (
        "prices",
        "id, product_id, currency, amount_minor, valid_from",
    ),
    (
        "inventory",
        "product_id, warehouse_id, on_hand, reserved, updated_at",
    ),
    ("user_emails", "email, user_id, claimed_at"),
    ("warehouses", "id, code, name, country"),
];

/// The rows of `table` over all `pools`, as UTC text, sorted.
async fn rows(pools: &[&PgPool], table: &str, columns: &str) -> Vec<String> {
    let mut all = Vec::new();
    for pool in pools {
        let mut conn = pool.acquire().await.unwrap();
        sqlx::query("SET TIME ZONE 'UTC'")
            .execute(&mut *conn)
            .await
            .unwrap();
        let found: Vec<String> =
            sqlx::query_scalar(&format!("SELECT ROW({columns})::text FROM {table}"))
                .fetch_all(&mut *conn)
                .await
                .unwrap();
        sqlx::query("RESET TIME ZONE")
            .execute(&mut *conn)
            .await
            .unwrap();
        all.extend(found);
    }
    all.sort();
    all
}

/// A digest per table of the rows over all shard databases, and of the catalog in `main`.
async fn digests(store: &PostgresStore, databases: &[&str]) -> Vec<(String, usize, String)> {
    let pools: Vec<&PgPool> = databases
        .iter()
        .map(|name| &store.database(name).unwrap().primary)
        .collect();
    let mut out = Vec::new();
    for (table, columns) in SHARD_TABLES {
        let found = rows(&pools, table, columns).await;
        out.push((table.to_owned(), found.len(), digest(&found)));
    }
    for (table, columns) in CATALOG_TABLES {
        let found = rows(&[store.pool()], table, columns).await;
        out.push((table.to_owned(), found.len(), digest(&found)));
    }
    out
}

fn digest(rows: &[String]) -> String {
    let mut hasher = Sha256::new();
    for row in rows {
        hasher.update(row.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}

async fn scalar(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// Lines point at orders and orders at users in the same database, totals add up, and nothing
/// fell into a DEFAULT partition.
async fn assert_consistent(pool: &PgPool) {
    for (what, sql) in [
        (
            "lines without their order",
            "SELECT count(*) FROM order_items i WHERE NOT EXISTS
               (SELECT 1 FROM orders o WHERE o.id = i.order_id AND o.created_at = i.created_at)",
        ),
        (
            "orders without their buyer",
            "SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = o.user_id)",
        ),
        (
            "orders whose total is not the sum of their lines",
            "SELECT count(*) FROM orders o WHERE total_minor <> (SELECT sum(quantity * unit_price_minor)
               FROM order_items i WHERE i.order_id = o.id AND i.created_at = o.created_at)",
        ),
        (
            "rows in DEFAULT partitions",
            "SELECT commerce_default_partition_rows()",
        ),
    ] {
        assert_eq!(scalar(pool, sql).await, 0, "{what}");
    }
}

#[tokio::test]
async fn the_same_seed_loads_the_same_rows_and_a_second_run_is_refused() {
    with_fresh_database("gen_a", |url_a| async move {
        with_fresh_database("gen_b", |url_b| async move {
            let hasher = PasswordHasher::insecure_fast_for_tests();
            let a = PostgresStore::connect(&url_a).await.unwrap();
            let b = PostgresStore::connect(&url_b).await.unwrap();
            let report = generate(&a, &spec(42), &hasher).await.unwrap();
            generate(&b, &spec(42), &hasher).await.unwrap();
            assert_eq!(report.orders(), 5_000);
            assert!(report.lines() >= 5_000);

            let digests_a = digests(&a, &[MAIN]).await;
            assert_eq!(digests_a, digests(&b, &[MAIN]).await);
            let counts: Vec<usize> = digests_a.iter().map(|(_, n, _)| *n).collect();
            assert_eq!(counts[..3], [700, 5_000, report.lines() as usize]);
            assert_eq!(counts[3..], [40, 40, 40, 700, 1]);
            assert_consistent(a.pool()).await;

            // One hash, of the bench password, shared by every user.
            let hashes: Vec<String> =
                sqlx::query_scalar("SELECT DISTINCT password_hash FROM users")
                    .fetch_all(a.pool())
                    .await
                    .unwrap();
            assert_eq!(hashes.len(), 1);
            let hash = PasswordHash::from_phc(hashes[0].clone());
            assert!(hasher.verify(BENCH_PASSWORD, &hash).await.unwrap());

            let again = generate(&a, &spec(42), &hasher).await.unwrap_err();
            assert!(
                again.to_string().contains("already holds bench"),
                "{again:#}"
            );
        })
        .await;
    })
    .await;
}

#[tokio::test]
async fn rows_land_on_the_database_that_holds_their_shard() {
    with_fresh_databases(
        "gen_sharded",
        &[URL_VAR, SECOND_URL_VAR],
        |urls| async move {
            with_fresh_database("gen_single", |single_url| async move {
                let hasher = PasswordHasher::insecure_fast_for_tests();
                let mut topology = Topology::single(urls[0].clone());
                topology
                    .shards
                    .insert("b".into(), DatabaseUrls::primary(urls[1].clone()));
                let sharded = PostgresStore::connect_topology(&topology).await.unwrap();
                for shard in (1..LOGICAL_SHARDS).step_by(2) {
                    move_shard(&sharded, shard, "b").await.unwrap();
                }
                let report = generate(&sharded, &spec(9), &hasher).await.unwrap();
                let in_b = report
                    .per_database
                    .iter()
                    .find(|w| w.database == "b")
                    .unwrap();
                assert!(
                    in_b.users > 0 && in_b.orders > 0 && in_b.lines > 0,
                    "{report}"
                );

                for name in [MAIN, "b"] {
                    let pool = &sharded.database(name).unwrap().primary;
                    for (table, column) in [
                        ("users", "id"),
                        ("orders", "id"),
                        ("order_items", "order_id"),
                    ] {
                        let ids: Vec<i64> =
                            sqlx::query_scalar(&format!("SELECT {column} FROM {table}"))
                                .fetch_all(pool)
                                .await
                                .unwrap();
                        assert!(!ids.is_empty(), "{table} in {name}");
                        for id in ids {
                            assert_eq!(
                                sharded.home_of(shard_of(id)),
                                name,
                                "{table} {id} in {name}"
                            );
                        }
                    }
                    assert_consistent(pool).await;
                }
                let b_pool = &sharded.database("b").unwrap().primary;
                assert_eq!(scalar(b_pool, "SELECT count(*) FROM user_emails").await, 0);
                assert_eq!(
                    scalar(sharded.pool(), "SELECT count(*) FROM user_emails").await,
                    700
                );

                // Where rows land does not change what they are.
                let single = PostgresStore::connect(&single_url).await.unwrap();
                generate(&single, &spec(9), &hasher).await.unwrap();
                assert_eq!(
                    digests(&sharded, &[MAIN, "b"]).await,
                    digests(&single, &[MAIN]).await
                );
            })
            .await;
        },
    )
    .await;
}
