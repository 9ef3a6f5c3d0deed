//! The store conformance checks on SQLite, each on its own database file.

mod common;

use polygate_org::store::conformance;
use polygate_org::store::sqlite::{MIGRATIONS, migrate};

macro_rules! on_sqlite {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                conformance::$check(&common::sqlite_store().await).await;
            }
        )*
    };
}

polygate_org::org_store_checks!(on_sqlite);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_checks_pass_on_one_database() {
    conformance::run_all(&common::sqlite_store().await).await;
}

#[tokio::test]
async fn migrating_an_up_to_date_database_applies_nothing() {
    let store = common::sqlite_store().await;
    assert_eq!(migrate(store.pool()).await.unwrap(), 0);
    assert_eq!(MIGRATIONS.len(), 1);
}

#[tokio::test]
async fn the_schema_refuses_a_second_head_a_self_report_and_a_wrong_path() {
    let store = common::sqlite_store().await;
    let pool = store.pool();
    sqlx::query(
        "INSERT INTO departments (id, name) VALUES ('d', 'D');
         INSERT INTO employees (id, email, name, title, reports_since, path, depth,
                                department_id, role, member_since)
         VALUES ('a', 'a@x.io', 'A', 'T', '2020-01-01', '/a/', 0, 'd', 'head', '2020-01-01')",
    )
    .execute(pool)
    .await
    .expect("valid rows");
    for bad in [
        "INSERT INTO employees VALUES ('b', 'b@x.io', 'B', 'T', 'a', '2020-01-01', '/a/b/', 1,
                                       'd', 'head', '2020-01-01')",
        "UPDATE employees SET manager_id = 'a' WHERE id = 'a'",
        "INSERT INTO employees VALUES ('c', 'c@x.io', 'C', 'T', 'a', '2020-01-01', '/a/x/', 1,
                                       'd', 'member', '2020-01-01')",
        "INSERT INTO employees VALUES ('e', 'a@x.io', 'E', 'T', 'a', '2020-01-01', '/a/e/', 1,
                                       'd', 'member', '2020-01-01')",
    ] {
        assert!(sqlx::query(bad).execute(pool).await.is_err(), "{bad}");
    }
}

#[tokio::test]
async fn the_demo_org_loads_once_and_alice_is_at_the_top() {
    use polygate_org::OrgStore as _;
    let store = common::sqlite_store().await;
    let chart = polygate_org::chart::demo();
    assert_eq!(store.import(&chart).await.unwrap(), 206);
    assert_eq!(store.import(&chart).await.unwrap(), 0);
    let alice = polygate_org::domain::EmployeeId::parse("alice").unwrap();
    let span = store.spans_of_control(&[alice]).await.unwrap();
    assert_eq!(span[0].1.total, 199, "everyone else reports to alice");
}
