//! The upkeep that runs by itself, on real PostgreSQL servers: leader election among processes
//! (an advisory lock), the pass on every shard database with the clock moved four months ahead
//! (by passing instants, never by waiting), and DETACH ... CONCURRENTLY where the server allows
//! it, including finishing one that was interrupted.
//!
//! Skipped (with a printed reason) without `POLYGATE_TEST_POSTGRES_URL` and, for the sharded
//! test, `POLYGATE_TEST_POSTGRES2_URL`, except under CI.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Months, TimeZone, Utc};
use futures::future::join_all;
use polygate_commerce::maintenance::maintain_partitions;
use polygate_commerce::store::postgres::{DatabaseUrls, Topology};
use polygate_commerce::upkeep::{Scheduler, Tick, UpkeepSettings};
use polygate_commerce::{CommerceStore, PostgresStore};
use polygate_kit::testing::postgres::{
    SECOND_URL_VAR, URL_VAR, with_fresh_database, with_fresh_databases,
};
use sqlx::{Connection as _, PgPool};

/// The instant every test starts from: mid-month, fixed, so nothing depends on today.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0).unwrap()
}

fn months_after(at: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    at.checked_add_months(Months::new(months)).unwrap()
}

fn settings() -> UpkeepSettings {
    UpkeepSettings {
        every: Duration::from_secs(3600),
        premake_months: 3,
        retain_months: 2,
        archive_after_days: 30,
    }
}

fn scheduler(router: &Arc<PostgresStore>) -> Scheduler {
    Scheduler::new(
        router.clone() as Arc<dyn CommerceStore>,
        Some(router.clone()),
        settings(),
    )
}

/// The partitions as of `t0()` (premake 3) plus the three months before it.
async fn months_around_t0(pool: &PgPool) {
    common::partitions_as_of(pool, t0(), 3).await;
    for back in 1..=3 {
        sqlx::query(
            "SELECT count(*) FROM commerce_create_month_partitions(
                 date_trunc('month', $1 AT TIME ZONE 'UTC') - make_interval(months => $2))",
        )
        .bind(t0())
        .bind(back)
        .execute(pool)
        .await
        .unwrap();
    }
}

/// A user (id 1) and one order (with a line) at each instant, ids from 100 up.
async fn orders_at(pool: &PgPool, first_id: i64, at: &[DateTime<Utc>]) {
    sqlx::query(
        "INSERT INTO users (id, email, name, password_hash) VALUES (1, 'u@example.com', 'U', 'x')
         ON CONFLICT DO NOTHING",
    )
    .execute(pool)
    .await
    .unwrap();
    for (n, instant) in at.iter().enumerate() {
        let id = first_id + n as i64;
        sqlx::raw_sql(&format!(
            "INSERT INTO orders (id, user_id, currency, total_minor, ship_to, created_at)
             VALUES ({id}, 1, 'EUR', 100,
                     jsonb_build_object('recipient', 'R', 'line1', 'L', 'city', 'C',
                                        'country', 'DE'), '{instant}');
             INSERT INTO order_items (id, order_id, created_at, product_id, sku, quantity,
                                      unit_price_minor, currency)
             VALUES ({id}, {id}, '{instant}', 1, 'SKU-1', 1, 100, 'EUR');",
            instant = instant.to_rfc3339()
        ))
        .execute(pool)
        .await
        .unwrap();
    }
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// The partition a row of `table` with id `id` lives in.
async fn home_of(pool: &PgPool, table: &str, id: i64) -> String {
    sqlx::query_scalar(&format!(
        "SELECT tableoid::regclass::text FROM {table} WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn of_three_processes_one_runs_each_pass_and_another_takes_over_when_it_dies() {
    with_fresh_database("commerce_upkeep", |url| async move {
        let routers: Vec<Arc<PostgresStore>> =
            join_all((0..3).map(|_| PostgresStore::connect(&url)))
                .await
                .into_iter()
                .map(|r| Arc::new(r.expect("connect")))
                .collect();
        let mut schedulers: Vec<Option<Scheduler>> =
            routers.iter().map(|r| Some(scheduler(r))).collect();

        async fn tick_all(schedulers: &[Option<Scheduler>]) -> Vec<usize> {
            let ticks = join_all(schedulers.iter().map(|s| async move {
                match s {
                    Some(s) => Some(s.tick(t0()).await.expect("tick")),
                    None => None,
                }
            }))
            .await;
            ticks
                .iter()
                .enumerate()
                .filter(|(_, t)| matches!(t, Some(Tick::Led(_))))
                .map(|(i, _)| i)
                .collect()
        }

        let led = tick_all(&schedulers).await;
        assert_eq!(led.len(), 1, "exactly one process runs the pass: {led:?}");
        let leader = led[0];
        assert_eq!(tick_all(&schedulers).await, [leader], "and keeps leading");

        // The leader dies: its connection closes, and with it the lock.
        schedulers[leader] = None;
        let started = std::time::Instant::now();
        let successor = loop {
            let led = tick_all(&schedulers).await;
            assert!(led.len() <= 1, "never two leaders: {led:?}");
            if let [one] = led[..] {
                break one;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nobody took over"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_ne!(successor, leader);
        assert_eq!(tick_all(&schedulers).await, [successor]);
    })
    .await;
}

#[tokio::test]
async fn four_months_ahead_every_shard_database_has_its_months_and_old_ones_keep_their_rows() {
    with_fresh_databases("commerce_upkeep", &[URL_VAR, SECOND_URL_VAR], |urls| async move {
        let mut topology = Topology::single(urls[0].clone());
        topology
            .shards
            .insert("b".into(), DatabaseUrls::primary(urls[1].clone()));
        let router = Arc::new(PostgresStore::connect_topology(&topology).await.unwrap());
        let pools: Vec<(String, PgPool)> = router
            .primaries()
            .map(|(name, pool)| (name.to_owned(), pool.clone()))
            .collect();
        assert_eq!(pools.len(), 2);
        let earlier: Vec<DateTime<Utc>> = (0..=3)
            .map(|back| t0().checked_sub_months(Months::new(back)).unwrap())
            .collect();
        for (_, pool) in &pools {
            months_around_t0(pool).await;
            orders_at(pool, 100, &earlier).await;
        }
        let upkeep = scheduler(&router);
        let Tick::Led(first) = upkeep.tick(t0()).await.unwrap() else {
            panic!("the only process leads")
        };
        assert!(first.ok(), "{first:?}");

        // Four months later, as the scheduler's clock sees it.
        let later = months_after(t0(), 4);
        let Tick::Led(report) = upkeep.tick(later).await.unwrap() else {
            panic!("the only process leads")
        };
        assert!(report.ok(), "{report:?}");
        assert_eq!(report.partitions.len(), 2, "every database: {report:?}");
        for (database, done) in &report.partitions {
            let done = done.as_ref().unwrap();
            assert!(done.blocked.is_empty() && done.default_rows == 0, "{database}: {done:?}");
            assert!(
                !done.detached_concurrently.is_empty(),
                "{database}: the archives' months detach concurrently: {done:?}"
            );
        }
        for (database, pool) in &pools {
            // Months up to three past the new "now" exist, so new orders find their months.
            let ahead: Vec<DateTime<Utc>> = (0..=3)
                .map(|m| months_after(later, m) + chrono::Duration::days(3))
                .collect();
            orders_at(pool, 200, &ahead).await;
            assert_eq!(
                count(pool, "SELECT commerce_default_partition_rows()").await,
                0,
                "{database}: no row landed in DEFAULT"
            );
            for (n, at) in ahead.iter().enumerate() {
                let expected = format!("orders_p{}", at.format("%Y_%m"));
                assert_eq!(home_of(pool, "orders", 200 + n as i64).await, expected);
            }
            // The months that ended two months before the new "now" were detached with their
            // rows, which the live tables no longer see.
            for (n, at) in earlier.iter().enumerate() {
                let month = at.format("%Y_%m");
                for table in ["orders", "order_items"] {
                    let kept = count(
                        pool,
                        &format!("SELECT count(*) FROM {table}_p{month} WHERE id = {}", 100 + n),
                    )
                    .await;
                    assert_eq!(kept, 1, "{database}: {table}_p{month} keeps its row");
                    let attached = count(
                        pool,
                        &format!("SELECT count(*) FROM pg_inherits WHERE inhrelid = '{table}_p{month}'::regclass"),
                    )
                    .await;
                    assert_eq!(attached, 0, "{database}: {table}_p{month} is detached");
                }
            }
            assert_eq!(count(pool, "SELECT count(*) FROM orders WHERE id < 200").await, 0);
        }
    })
    .await;
}

#[tokio::test]
async fn without_a_default_partition_months_detach_concurrently_and_an_interrupted_one_finishes() {
    with_fresh_database("commerce_upkeep", |url| async move {
        let router = PostgresStore::connect(&url).await.unwrap();
        let pool = router.pool().clone();
        months_around_t0(&pool).await;
        sqlx::raw_sql(
            "ALTER TABLE order_items DETACH PARTITION order_items_default;
             ALTER TABLE orders DETACH PARTITION orders_default;
             DROP TABLE order_items_default, orders_default;",
        )
        .execute(&pool)
        .await
        .unwrap();
        let oldest = t0()
            .checked_sub_months(Months::new(3))
            .unwrap()
            .format("%Y_%m");
        let interrupted = format!("order_requests_archive_p{oldest}");

        // A concurrent detach waits for every transaction that might still see the partition;
        // cut short while it waits, PostgreSQL leaves the partition "detach pending".
        let mut reader = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(
            "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM order_requests_archive;",
        )
        .execute(&mut reader)
        .await
        .unwrap();
        let mut detacher = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::raw_sql("SET statement_timeout = '500ms'")
            .execute(&mut detacher)
            .await
            .unwrap();
        let cut_short = sqlx::raw_sql(&format!(
            "ALTER TABLE order_requests_archive DETACH PARTITION {interrupted} CONCURRENTLY"
        ))
        .execute(&mut detacher)
        .await;
        assert!(cut_short.is_err(), "the detach waits for the open snapshot");
        sqlx::raw_sql("COMMIT").execute(&mut reader).await.unwrap();
        let pending: bool = sqlx::query_scalar(
            "SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = $1::regclass",
        )
        .bind(&interrupted)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(pending, "left detach-pending");

        // Two months kept: every table's months before last month go, all of them online.
        let report = maintain_partitions(&pool, 3, 2, t0()).await.unwrap();
        assert_eq!(report.detached, report.detached_concurrently, "{report:?}");
        for table in ["order_items", "orders", "stock_reservations_archive"] {
            let month = format!("{table}_p{oldest}");
            assert!(report.detached.contains(&month), "{month}: {report:?}");
        }
        assert!(
            report.detached.contains(&interrupted),
            "finished: {report:?}"
        );
        let still: i64 = count(
            &pool,
            &format!("SELECT count(*) FROM pg_inherits WHERE inhrelid = '{interrupted}'::regclass"),
        )
        .await;
        assert_eq!(still, 0);
        let again = maintain_partitions(&pool, 3, 2, t0()).await.unwrap();
        assert!(again.detached.is_empty(), "{again:?}");
    })
    .await;
}

#[tokio::test]
async fn the_maintain_command_runs_one_pass_and_says_what_it_did() {
    with_fresh_database("commerce_upkeep", |url| async move {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_polygate-commerce"))
            .args(["maintain", "--as-of", "2027-01-15T00:00:00Z"])
            .env("POLYGATE_SUBGRAPHS__COMMERCE__STORE", &url)
            .env("RUST_LOG", "warn")
            .output()
            .await
            .expect("run polygate-commerce maintain");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains("database main: "), "{stdout}");
        assert!(stdout.contains("0 rows in DEFAULT"), "{stdout}");
        assert!(
            stdout.contains(
                "archived 0 order requests, 0 reservations and 0 payments; 0 stock rows drifted"
            ),
            "{stdout}"
        );
        let pool = PgPool::connect(&url).await.unwrap();
        let made = count(
            &pool,
            "SELECT count(*) FROM pg_class WHERE relname = 'orders_p2027_04'",
        )
        .await;
        assert_eq!(made, 1, "premade three months past --as-of");
    })
    .await;
}
