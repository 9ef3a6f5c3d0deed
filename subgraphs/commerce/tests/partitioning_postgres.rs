//! Monthly partitioning of orders and order_items on a real Postgres, each test on a database
//! created for it and dropped after: the maintenance routine, detach-for-archive, the DEFAULT
//! partition, and partition pruning of the recent-order-history query (from the EXPLAIN JSON).
//!
//! Every test but pg_partman's runs by a fixed clock (`common::MONTH_CLOCKS`: the 1st, the 15th
//! and the last day of a month), passed to our maintenance routine and bound in place of
//! `now()`, so no outcome depends on the day the suite runs. pg_partman reads the database's own
//! clock; its test computes every expected month from that same clock.

mod common;

use std::collections::BTreeSet;
use std::future::Future;

use chrono::{DateTime, Datelike, Utc};
use polygate_commerce::PostgresStore;
use polygate_commerce::maintenance::{Engine, maintain_partitions};
use polygate_kit::testing::postgres::with_fresh_database;
use sqlx::PgPool;

/// The archives of settled saga rows, partitioned by the month they were archived in.
const ARCHIVES: [&str; 2] = ["order_requests_archive", "stock_reservations_archive"];
/// Every monthly table, in the order the routine creates a month's partitions.
const MONTHLY_TABLES: [&str; 4] = ["orders", "order_items", ARCHIVES[0], ARCHIVES[1]];

/// Runs `check` on the pool of a migrated store over a database created for it (dropped
/// afterwards).
async fn on_fresh_database<F, Fut>(check: F)
where
    F: FnOnce(PgPool) -> Fut,
    Fut: Future<Output = ()>,
{
    with_fresh_database("commerce_part", |url| async move {
        let store = PostgresStore::connect(&url)
            .await
            .expect("connect and migrate");
        let pool = store.pool().clone();
        check(pool.clone()).await;
        pool.close().await;
    })
    .await;
}

/// Runs `check` once per clock of `common::MONTH_CLOCKS`, each on its own fresh database whose
/// partitions are those the maintenance routine would have made on that day (premake 3).
async fn at_every_clock<F, Fut>(check: F)
where
    F: Fn(PgPool, DateTime<Utc>) -> Fut,
    Fut: Future<Output = ()>,
{
    for (day, as_of) in common::month_clocks() {
        eprintln!("as of {day}: {as_of}");
        on_fresh_database(|pool| async {
            common::partitions_as_of(&pool, as_of, 3).await;
            check(pool, as_of).await;
        })
        .await;
    }
}

/// `<table>_pYYYY_MM` of the UTC month `offset` months from the month of `as_of`.
async fn month_name(pool: &PgPool, table: &str, as_of: DateTime<Utc>, offset: i32) -> String {
    sqlx::query_scalar(
        "SELECT $1 || '_p' || to_char(date_trunc('month', $3 AT TIME ZONE 'UTC')
                                      + make_interval(months => $2), 'YYYY_MM')",
    )
    .bind(table)
    .bind(offset)
    .bind(as_of)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The database's own clock, for the pg_partman test.
async fn database_now(pool: &PgPool) -> DateTime<Utc> {
    sqlx::query_scalar("SELECT now()")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Attached partitions of `parent`.
async fn partitions(pool: &PgPool, parent: &str) -> BTreeSet<String> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = $1::regclass",
    )
    .bind(parent)
    .fetch_all(pool)
    .await
    .unwrap();
    names.into_iter().collect()
}

/// Creates the partitions of the months `from..=to` (offsets from the month of `as_of`), as a
/// database that has been running for a while would have them.
async fn backfill(pool: &PgPool, as_of: DateTime<Utc>, from: i32, to: i32) {
    for offset in from..=to {
        sqlx::query(
            "SELECT count(*) FROM commerce_create_month_partitions(
                 date_trunc('month', $2 AT TIME ZONE 'UTC') + make_interval(months => $1))",
        )
        .bind(offset)
        .bind(as_of)
        .execute(pool)
        .await
        .unwrap();
    }
}

/// Users 1..=users, one product, and `orders` orders (each with one line) spread over the
/// `days` days before `as_of`, every one at least an hour old.
async fn seed_orders(pool: &PgPool, as_of: DateTime<Utc>, users: i64, orders: i64, days: i64) {
    sqlx::query(
        "INSERT INTO users (id, email, name, password_hash)
         SELECT g, 'user' || g || '@example.com', 'User ' || g, 'x' FROM generate_series(1, $1) g",
    )
    .bind(users)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO products (id, sku, name) VALUES (1, 'SKU-1', 'Widget')")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO orders (id, user_id, currency, total_minor, ship_to, created_at)
         SELECT g, 1 + g % $1, 'EUR', 1250,
                jsonb_build_object('recipient', 'R', 'line1', 'L', 'city', 'C', 'country', 'DE'),
                $4 - interval '1 hour' - (g % $3) * interval '1 day' - (g % 97) * interval '1 minute'
         FROM generate_series(1, $2) g",
    )
    .bind(users)
    .bind(orders)
    .bind(days)
    .bind(as_of)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO order_items (id, order_id, created_at, product_id, sku, quantity,
                                  unit_price_minor, currency)
         SELECT id, id, created_at, 1, 'SKU-1', 1, 1250, 'EUR' FROM orders",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::raw_sql("ANALYZE orders; ANALYZE order_items")
        .execute(pool)
        .await
        .unwrap();
}

/// Every `Relation Name` in an EXPLAIN (FORMAT JSON) plan.
fn relations(plan: &serde_json::Value, out: &mut BTreeSet<String>) {
    match plan {
        serde_json::Value::Object(node) => {
            if let Some(serde_json::Value::String(name)) = node.get("Relation Name") {
                out.insert(name.clone());
            }
            node.values().for_each(|v| relations(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| relations(v, out)),
        _ => {}
    }
}

/// The plan of `query` with `$1` = `user_id` and `$2` = `as_of`, and every relation it touches.
async fn explain(
    pool: &PgPool,
    query: &str,
    user_id: i64,
    as_of: DateTime<Utc>,
) -> (serde_json::Value, BTreeSet<String>) {
    let plan: serde_json::Value = sqlx::query_scalar(&format!("EXPLAIN (FORMAT JSON) {query}"))
        .bind(user_id)
        .bind(as_of)
        .fetch_one(pool)
        .await
        .unwrap();
    let mut touched = BTreeSet::new();
    relations(&plan, &mut touched);
    (plan, touched)
}

#[tokio::test]
async fn maintenance_creates_the_next_months_and_is_idempotent() {
    at_every_clock(|pool, as_of| async move {
        for offset in 0..=3 {
            for table in ["orders", "order_items"] {
                assert!(
                    partitions(&pool, table)
                        .await
                        .contains(&month_name(&pool, table, as_of, offset).await)
                );
            }
        }
        let report = maintain_partitions(&pool, 6, 12, as_of).await.unwrap();
        assert_eq!(report.engine, Engine::Builtin);
        let mut expected = Vec::new();
        for offset in 4..=6 {
            for table in MONTHLY_TABLES {
                expected.push(month_name(&pool, table, as_of, offset).await);
            }
        }
        assert_eq!(report.created, expected);
        assert!(report.detached.is_empty() && report.blocked.is_empty());
        assert_eq!(report.default_rows, 0);

        for table in ["orders", "order_items"] {
            let attached = partitions(&pool, table).await;
            assert_eq!(attached.len(), 7 + 1, "{attached:?}"); // months 0..=6 and DEFAULT
            assert!(attached.contains(&format!("{table}_default")));
        }
        // The bounds are whole UTC months.
        let bound: String = sqlx::query_scalar(
            "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE oid = $1::regclass",
        )
        .bind(month_name(&pool, "orders", as_of, 6).await)
        .fetch_one(&pool)
        .await
        .unwrap();
        let from: String = sqlx::query_scalar(
            "SELECT to_char(date_trunc('month', $1 AT TIME ZONE 'UTC') + interval '6 months',
                            'YYYY-MM-DD')",
        )
        .bind(as_of)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(
            bound.contains(&format!("FROM ('{from} 00:00:00")),
            "{bound}"
        );

        let again = maintain_partitions(&pool, 6, 12, as_of).await.unwrap();
        assert!(
            again.created.is_empty() && again.detached.is_empty(),
            "{again:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn old_months_are_detached_with_their_rows_and_only_once() {
    at_every_clock(|pool, as_of| async move {
        backfill(&pool, as_of, -15, -1).await;
        sqlx::query(
            "INSERT INTO users (id, email, name, password_hash) VALUES (1, 'a@example.com', 'A', 'x')",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO products (id, sku, name) VALUES (1, 'SKU-1', 'Widget')")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO orders (id, user_id, currency, total_minor, ship_to, created_at)
             VALUES (1, 1, 'EUR', 500, jsonb_build_object('recipient', 'R', 'line1', 'L', 'city', 'C', 'country', 'DE'), $1 - interval '14 months'),
                    (2, 1, 'EUR', 500, jsonb_build_object('recipient', 'R', 'line1', 'L', 'city', 'C', 'country', 'DE'), $1 - interval '1 month')",
        )
        .bind(as_of)
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO order_items (id, order_id, created_at, product_id, sku, quantity,
                                      unit_price_minor, currency)
             SELECT id, id, created_at, 1, 'SKU-1', 1, 500, 'EUR' FROM orders",
        )
        .execute(&pool)
        .await
        .unwrap();

        let report = maintain_partitions(&pool, 3, 12, as_of).await.unwrap();
        // Months -15, -14 and -13 ended on or before the start of month -12: detached, lines
        // before orders, then the archives' months, which (having no DEFAULT partition)
        // PostgreSQL lets go CONCURRENTLY.
        let mut expected = Vec::new();
        let mut concurrently = Vec::new();
        for table in ["order_items", "orders", ARCHIVES[0], ARCHIVES[1]] {
            for offset in -15..=-13 {
                let month = month_name(&pool, table, as_of, offset).await;
                if ARCHIVES.contains(&table) {
                    concurrently.push(month.clone());
                }
                expected.push(month);
            }
        }
        assert_eq!(report.detached, expected);
        assert_eq!(report.detached_concurrently, concurrently);
        assert!(report.created.is_empty(), "{report:?}");
        let kept = month_name(&pool, "orders", as_of, -12).await;
        assert!(partitions(&pool, "orders").await.contains(&kept));

        // Detached, not dropped: plain tables that keep their rows and no foreign keys.
        for name in &report.detached {
            let (is_partition, foreign_keys): (bool, i64) = sqlx::query_as(
                "SELECT c.relispartition,
                        (SELECT count(*) FROM pg_constraint WHERE conrelid = c.oid AND contype = 'f')
                 FROM pg_class c WHERE c.oid = $1::regclass",
            )
            .bind(name)
            .fetch_one(&pool)
            .await
            .unwrap();
            assert!(!is_partition && foreign_keys == 0, "{name}");
        }
        let archived: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {}",
            month_name(&pool, "orders", as_of, -14).await
        ))
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(archived, 1);
        let live: Vec<i64> = sqlx::query_scalar("SELECT id FROM orders ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(live, [2]);

        let again = maintain_partitions(&pool, 3, 12, as_of).await.unwrap();
        assert!(again.detached.is_empty() && again.created.is_empty(), "{again:?}");
    })
    .await;
}

#[tokio::test]
async fn the_default_partition_catches_stray_rows_and_blocks_their_month() {
    at_every_clock(|pool, as_of| async move {
        sqlx::query(
            "INSERT INTO users (id, email, name, password_hash) VALUES (1, 'a@example.com', 'A', 'x')",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO orders (id, user_id, currency, total_minor, ship_to, created_at)
             VALUES (1, 1, 'EUR', 500, jsonb_build_object('recipient', 'R', 'line1', 'L', 'city', 'C', 'country', 'DE'), $1 + interval '24 months')",
        )
        .bind(as_of)
        .execute(&pool)
        .await
        .unwrap();
        let in_default: i64 = sqlx::query_scalar("SELECT count(*) FROM orders_default")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(in_default, 1);

        let report = maintain_partitions(&pool, 24, 12, as_of).await.unwrap();
        assert_eq!(report.default_rows, 1);
        let blocked_month = month_name(&pool, "orders", as_of, 24).await;
        assert!(report.blocked.contains(&blocked_month), "{report:?}");
        assert!(
            report
                .created
                .contains(&month_name(&pool, "orders", as_of, 23).await)
        );
        assert!(!partitions(&pool, "orders").await.contains(&blocked_month));
    })
    .await;
}

#[tokio::test]
async fn recent_order_history_touches_only_the_months_its_window_overlaps() {
    at_every_clock(|pool, as_of| async move {
        backfill(&pool, as_of, -8, -1).await;
        seed_orders(&pool, as_of, 40, 12_000, 200).await;
        let spread: i64 =
            sqlx::query_scalar("SELECT count(DISTINCT tableoid) FROM orders WHERE created_at < $1")
                .bind(as_of)
                .fetch_one(&pool)
                .await
                .unwrap();
        assert!(spread >= 7, "rows in {spread} partitions");

        let bounded = "SELECT id, created_at, status, total_minor FROM orders
                       WHERE user_id = $1 AND created_at >= $2 - interval '30 days'
                         AND created_at <= $2
                       ORDER BY created_at DESC, id DESC LIMIT 20";
        let (plan, touched) = explain(&pool, bounded, 7, as_of).await;
        eprintln!("bounded history query touches {touched:?}");
        // The months the window [as_of - 30 days, as_of] overlaps.
        let expected: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT 'orders_p' || to_char(t AT TIME ZONE 'UTC', 'YYYY_MM')
             FROM generate_series($1 - interval '30 days', $1, interval '1 day') t
             UNION SELECT 'orders_p' || to_char($1 AT TIME ZONE 'UTC', 'YYYY_MM')",
        )
        .bind(as_of)
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(
            touched,
            expected.into_iter().collect::<BTreeSet<_>>(),
            "{plan:#}"
        );
        // Two calendar months at most, except on 1 and 2 March, when all of February lies inside
        // the window (the first clock is such a day: three).
        let all_of_february_inside = as_of.month() == 3 && as_of.day() <= 2;
        assert!(
            touched.len() <= 2 || (all_of_february_inside && touched.len() == 3),
            "{touched:?}"
        );
        let plan_text = plan.to_string();
        assert!(plan_text.contains("user_id_created_at_id_idx"), "{plan:#}");

        // Without the upper bound, the premade future months and DEFAULT cannot be pruned.
        let open = "SELECT id, created_at, status, total_minor FROM orders
                    WHERE user_id = $1 AND created_at >= $2 - interval '30 days'
                    ORDER BY created_at DESC, id DESC LIMIT 20";
        let (_, open_touched) = explain(&pool, open, 7, as_of).await;
        eprintln!("open-ended history query touches {open_touched:?}");
        assert!(open_touched.contains("orders_default"), "{open_touched:?}");
        assert!(open_touched.contains(&month_name(&pool, "orders", as_of, 3).await));
        assert!(open_touched.is_superset(&touched));

        // Both return the same rows: nothing is after the clock.
        let rows = |sql: &'static str| {
            let pool = pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>(
                    &sql.replace("id, created_at, status, total_minor", "id"),
                )
                .bind(7_i64)
                .bind(as_of)
                .fetch_all(&pool)
                .await
                .unwrap()
            }
        };
        let page = rows(bounded).await;
        assert_eq!(page.len(), 20);
        assert_eq!(page, rows(open).await);
    })
    .await;
}

#[tokio::test]
async fn pg_partman_runs_the_maintenance_when_it_manages_both_tables() {
    on_fresh_database(|pool| async move {
        let available: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_partman'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(
            available, 1,
            "pg_partman is not installed on the test server: e2e/servers/postgres.sh installs it"
        );
        let now = database_now(&pool).await;
        backfill(&pool, now, -15, -1).await;
        sqlx::raw_sql(
            "INSERT INTO users (id, email, name, password_hash) VALUES (1, 'a@example.com', 'A', 'x');
             INSERT INTO products (id, sku, name) VALUES (1, 'SKU-1', 'Widget');
             INSERT INTO orders (id, user_id, currency, total_minor, ship_to, created_at)
             VALUES (1, 1, 'EUR', 500, jsonb_build_object('recipient', 'R', 'line1', 'L', 'city', 'C', 'country', 'DE'), now() - interval '14 months');
             INSERT INTO order_items (id, order_id, created_at, product_id, sku, quantity,
                                      unit_price_minor, currency)
             SELECT id, id, created_at, 1, 'SKU-1', 1, 500, 'EUR' FROM orders;",
        )
        .execute(&pool)
        .await
        .unwrap();
        // Installed but not configured: still our routine.
        sqlx::raw_sql("CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman;")
            .execute(&pool)
            .await
            .unwrap();
        let ours = maintain_partitions(&pool, 3, 24, now).await.unwrap();
        assert_eq!(ours.engine, Engine::Builtin);

        // Adoption as the README describes it: pg_partman makes its own (empty) DEFAULT.
        let version: String =
            sqlx::query_scalar("SELECT extversion FROM pg_extension WHERE extname = 'pg_partman'")
                .fetch_one(&pool)
                .await
                .unwrap();
        let kind = if version.starts_with('4') { "native" } else { "range" };
        let interval = if version.starts_with('4') { "monthly" } else { "1 month" };
        sqlx::raw_sql(&format!(
            "ALTER TABLE order_items DETACH PARTITION order_items_default;
             ALTER TABLE orders DETACH PARTITION orders_default;
             DROP TABLE order_items_default, orders_default;
             SELECT partman.create_parent('public.order_items', 'created_at', '{kind}', '{interval}');
             SELECT partman.create_parent('public.orders', 'created_at', '{kind}', '{interval}');"
        ))
        .execute(&pool)
        .await
        .unwrap();

        let report = maintain_partitions(&pool, 5, 12, now).await.unwrap();
        assert_eq!(report.engine, Engine::PgPartman);
        for table in ["orders", "order_items"] {
            let attached = partitions(&pool, table).await;
            for offset in 0..=5 {
                let month = month_name(&pool, table, now, offset).await;
                assert!(attached.contains(&month), "{month} missing: {report:?}");
            }
            let old = month_name(&pool, table, now, -14).await;
            assert!(report.detached.contains(&old), "{report:?}");
            assert!(!attached.contains(&old));
            assert!(attached.contains(&month_name(&pool, table, now, -12).await));
        }
        for name in &report.detached {
            let foreign_keys: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f'",
            )
            .bind(name)
            .fetch_one(&pool)
            .await
            .unwrap();
            assert_eq!(foreign_keys, 0, "{name}");
        }
        let archived: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {}",
            month_name(&pool, "order_items", now, -14).await
        ))
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(archived, 1);

        let again = maintain_partitions(&pool, 5, 12, now).await.unwrap();
        assert!(again.created.is_empty() && again.detached.is_empty(), "{again:?}");
    })
    .await;
}
