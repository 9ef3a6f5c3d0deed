//! The EXPLAIN evidence behind the design doc's index table: every query file in
//! `sql/commerce/postgres/queries/` names, in its header comment, the indexes that serve it, and
//! this test checks that the planner really uses each of them on a realistically shaped database
//! (50,000 orders over 12 months with a payment each, 5,000 products in 500 categories with price
//! history, two addresses per user). The plans
//! are printed, so `cargo test --test query_plans_postgres -- --nocapture` shows the evidence the
//! doc quotes.
//!
//! Non-obvious: the data is placed by a fixed clock, not the day the suite runs, and the test runs
//! as of the 1st, the 15th and the last day of a month. Each month partition holds the same
//! number of orders, spread over the part of the month before the clock: the planner chooses an
//! index by the size of the partition it reads, and a current month with a few hundred rows (the
//! 2nd of the month, with orders spread evenly over a year) rightly gets a sequential scan, which
//! made the outcome depend on the date.

mod common;

use std::path::Path;

use chrono::{DateTime, Utc};
use polygate_commerce::PostgresStore;
use polygate_kit::testing::postgres::with_fresh_database;
use sqlx::PgPool;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;

/// Rows shaped like production, as of `{as_of}`: users on many shards, twelve months of orders
/// with two lines each (the same number in every month, over the part of the month before the
/// clock), products with a few price changes each, stock in two warehouses.
const DATASET: &str = "
INSERT INTO users (id, email, name, password_hash, created_at)
SELECT (u::BIGINT << 23) | ((u % 256) << 10), 'user' || u || '@example.com', 'User ' || u, 'x',
       {as_of} - interval '400 days'
FROM generate_series(1, 2000) u;
INSERT INTO categories (id, slug, name)
SELECT c, 'category-' || c, 'Category ' || c FROM generate_series(1, 500) c;
INSERT INTO products (id, sku, name, category_id, created_at)
SELECT p, 'SKU-' || p, 'Product ' || p, (p % 500) + 1, {as_of} - interval '400 days'
FROM generate_series(1, 5000) p;
INSERT INTO prices (id, product_id, currency, amount_minor, valid_from)
SELECT p * 10 + v * 2 + (c = 'EUR')::INT, p, c, 100 + v, {as_of} - (v || ' days')::interval
FROM generate_series(1, 5000) p, generate_series(1, 3) v, unnest(ARRAY['USD', 'EUR']) c
WHERE (c = 'USD') OR v = 1;
INSERT INTO warehouses (id, code, name, country) VALUES (1, 'W-1', 'One', 'DE'), (2, 'W-2', 'Two', 'FR');
INSERT INTO inventory (product_id, warehouse_id, on_hand, reserved)
SELECT p, w, 1000, 0 FROM generate_series(1, 5000) p, generate_series(1, 2) w;
-- Order ids carry their creation instant and their buyer's shard, as the application makes them.
-- Order o falls in month (o % 12) before the clock's, at slot (o / 12) of that month's span.
INSERT INTO orders (id, user_id, status, currency, total_minor, ship_to, created_at)
SELECT ((extract(epoch FROM at) * 1000)::BIGINT - 1767225600000) << 23
         | ((((o % 2000) + 1) % 256) << 10) | (o % 1024),
       (((o % 2000) + 1)::BIGINT << 23) | ((((o % 2000) + 1) % 256) << 10),
       'delivered', 'USD', 300, jsonb_build_object('recipient', 'R', 'line1', 'L', 'city', 'C', 'country', 'DE'), at
FROM generate_series(0, 49999) o,
     LATERAL (SELECT (date_trunc('month', {as_of} AT TIME ZONE 'UTC')
                      - ((o % 12) || ' months')::interval) AT TIME ZONE 'UTC' AS lo) m,
     LATERAL (SELECT least(lo + interval '1 month', {as_of}) AS hi) h,
     LATERAL (SELECT date_trunc('milliseconds', lo + (hi - lo) * ((o / 12) + 0.5) / 4167) AS at) t;
INSERT INTO order_items (id, order_id, created_at, product_id, sku, quantity, unit_price_minor, currency)
SELECT o.id * 4 + l, o.id, o.created_at, (o.id % 5000) + 1, 'SKU-' || ((o.id % 5000) + 1), 1, 100, 'USD'
FROM orders o, generate_series(1, 2) l;
INSERT INTO addresses (id, user_id, recipient, line1, city, country)
SELECT (u::BIGINT << 23) | ((u % 256) << 10) | a, (u::BIGINT << 23) | ((u % 256) << 10),
       'User ' || u, a || ' Main Street', 'Berlin', 'DE'
FROM generate_series(1, 2000) u, generate_series(1, 2) a;
INSERT INTO payments (id, order_id, order_created_at, amount_minor, currency, status, provider,
                      provider_ref, request_key)
SELECT o.id, o.id, o.created_at, 300, 'USD', 'captured', 'fake', 'ref-' || o.id, 'key-' || o.id
FROM orders o;
-- The upkeep keeps 30 days of final payments hot (migration 0013); the rest are archived.
WITH moved AS (DELETE FROM payments WHERE order_created_at < {as_of} - interval '30 days'
               RETURNING *)
INSERT INTO payments_archive (id, order_id, order_created_at, amount_minor, currency, status,
                              provider, provider_ref, request_key, failure, created_at,
                              updated_at, archived_at)
SELECT id, order_id, order_created_at, amount_minor, currency, status, provider, provider_ref,
       request_key, failure, created_at, updated_at, {as_of}
FROM moved;
ANALYZE;
";

/// Representative parameters for each query file; `recent` holds ids of recent orders.
fn bind(
    name: &str,
    sql: &str,
    recent: &[i64],
    as_of: DateTime<Utc>,
) -> Query<'static, sqlx::Postgres, PgArguments> {
    let user = (7_i64 << 23) | (7 << 10);
    let q = sqlx::query(Box::leak(format!("EXPLAIN {sql}").into_boxed_str()));
    match name {
        "products_by_ids" => q.bind(vec![17_i64, 4242, 999]),
        "products_by_skus" | "product_ids_by_skus" => {
            q.bind(vec!["SKU-17".to_owned(), "SKU-4242".to_owned()])
        }
        "list_products" => q.bind(100_i64).bind(20_i64),
        "list_products_in_category" => q.bind("category-3").bind(100_i64).bind(20_i64),
        "order_history" => q.bind(user).bind(as_of).bind(i64::MAX).bind(20_i64),
        "addresses_of_user" => q.bind(user).bind(20_i64),
        "payments_of_orders" => q.bind(recent.to_vec()),
        "orders_by_ids" | "order_lines" => {
            // 20 recent orders: ids and their creation instants, as the adapter binds them.
            let ids = recent.to_vec();
            let at: Vec<chrono::DateTime<chrono::Utc>> = ids
                .iter()
                .map(|id| polygate_commerce::ids::created_at_of(*id))
                .collect();
            q.bind(ids).bind(at)
        }
        "reserve_line" => q.bind(17_i64).bind(2_i32),
        "shard_map" => q,
        other => panic!("no parameters for query file {other}.sql: add them here"),
    }
}

/// The index names a query file's header comment promises (`…_idx`, `…_key`, `…_pkey`).
fn promised_indexes(sql: &str) -> Vec<String> {
    sql.lines()
        .take_while(|l| l.starts_with("--"))
        .flat_map(|l| l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .filter(|w| w.ends_with("_idx") || w.ends_with("_key") || w.ends_with("_pkey"))
        .map(str::to_owned)
        .collect()
}

/// The index and, for an index on a partitioned table, every partition's copy of it.
async fn index_and_children(pool: &PgPool, index: &str) -> Vec<String> {
    let mut names = vec![index.to_owned()];
    let children: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::TEXT FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = to_regclass($1)",
    )
    .bind(index)
    .fetch_all(pool)
    .await
    .unwrap();
    names.extend(children);
    names
}

#[tokio::test]
async fn every_query_uses_its_indexes_as_of_the_1st() {
    every_query_uses_the_indexes_its_file_names(0).await;
}

#[tokio::test]
async fn every_query_uses_its_indexes_as_of_the_15th() {
    every_query_uses_the_indexes_its_file_names(1).await;
}

#[tokio::test]
async fn every_query_uses_its_indexes_as_of_the_last_day_of_a_month() {
    every_query_uses_the_indexes_its_file_names(2).await;
}

/// Loads the dataset as of `common::MONTH_CLOCKS[clock]` and checks every query file's plan.
async fn every_query_uses_the_indexes_its_file_names(clock: usize) {
    let (day, as_of) = common::month_clocks()[clock];
    with_fresh_database("commerce_plans", |url| async move {
        // Migrated by the store; loaded and explained on a plain pool, without the store's 5 s
        // statement timeout (loading takes longer on a busy machine).
        drop(PostgresStore::connect(&url).await.unwrap());
        let pool = &PgPool::connect(&url).await.unwrap();
        common::partitions_as_of(pool, as_of, 3).await;
        for months_back in 1..=12 {
            sqlx::query(
                "SELECT count(*) FROM commerce_create_month_partitions(
                     date_trunc('month', $1 AT TIME ZONE 'UTC') - make_interval(months => $2))",
            )
            .bind(as_of)
            .bind(months_back)
            .execute(pool)
            .await
            .unwrap();
        }
        let as_of_literal = format!("'{}'::timestamptz", as_of.to_rfc3339());
        sqlx::raw_sql(&DATASET.replace("{as_of}", &as_of_literal))
            .execute(pool)
            .await
            .expect("dataset");
        let stray: i64 = sqlx::query_scalar("SELECT commerce_default_partition_rows()")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(
            stray, 0,
            "every order of the dataset has its month's partition"
        );
        let recent: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM orders ORDER BY created_at DESC, id LIMIT 20")
                .fetch_all(pool)
                .await
                .unwrap();

        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sql/commerce/postgres/queries");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(files.len() >= 8, "query files found: {files:?}");
        for file in files {
            let name = file.file_stem().unwrap().to_str().unwrap().to_owned();
            let sql = std::fs::read_to_string(&file).unwrap();
            let plan: Vec<String> = bind(&name, &sql, &recent, as_of)
                .fetch_all(pool)
                .await
                .unwrap_or_else(|e| panic!("EXPLAIN {name} as of {day}: {e}"))
                .iter()
                .map(|row| sqlx::Row::get::<String, _>(row, 0))
                .collect();
            let plan = plan.join("\n");
            println!("== {name}.sql as of {day} ({as_of})\n{plan}\n");
            for index in promised_indexes(&sql) {
                let names = index_and_children(pool, &index).await;
                assert!(
                    names.iter().any(|n| plan.contains(n.as_str())),
                    "as of {day}: {name}.sql promises {index} but the plan does not use it:\n{plan}"
                );
            }
            for scanned in plan.split("Seq Scan on ").skip(1) {
                let table = scanned.split_whitespace().next().unwrap_or_default();
                if table.starts_with("orders") || table.starts_with("order_items") {
                    let rows: f32 =
                        sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE relname = $1")
                            .bind(table)
                            .fetch_one(pool)
                            .await
                            .unwrap();
                    assert!(
                        rows <= 0.0,
                        "as of {day}: {name}.sql scans all of {table} ({rows} rows):\n{plan}"
                    );
                }
            }
        }
    })
    .await;
}
