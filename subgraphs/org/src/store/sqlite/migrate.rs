//! The SQLite schema, applied at start-up: each file of `sql/org/sqlite/` once, recorded in
//! `_polygate_migrations` in the same transaction, so reopening a database applies nothing.
//! Statements go through `Executor::execute`, not `raw_sql`, whose future is not `Send` for every
//! lifetime (the port's futures must be).

use sqlx::{Executor as _, SqlitePool};

pub struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "departments, employees with paths, org version",
    sql: include_str!("../../../../../sql/org/sqlite/0001_org.sql"),
}];

/// Applies the pending migrations; returns how many it applied.
pub async fn run(pool: &SqlitePool) -> Result<usize, sqlx::Error> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    (&mut *tx)
        .execute(
            "CREATE TABLE IF NOT EXISTS _polygate_migrations (
                 version INTEGER PRIMARY KEY, description TEXT NOT NULL)",
        )
        .await?;
    let mut applied = 0;
    for m in MIGRATIONS {
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM _polygate_migrations WHERE version = ?")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await?;
        if done.is_none() {
            (&mut *tx).execute(m.sql).await?;
            sqlx::query("INSERT INTO _polygate_migrations (version, description) VALUES (?, ?)")
                .bind(m.version)
                .bind(m.description)
                .execute(&mut *tx)
                .await?;
            applied += 1;
        }
    }
    tx.commit().await?;
    Ok(applied)
}
