//! The embedded store's schema: `sql/search/sqlite/*.sql`, compiled in and applied once each, in
//! one transaction with their bookkeeping rows (the workspace builds sqlx without its `migrate!`
//! macro, as commerce does).

use sqlx::{Executor as _, SqlitePool};

struct Migration {
    version: i64,
    description: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "documents",
        sql: include_str!("../../../../../sql/search/sqlite/0001_documents.sql"),
    },
    Migration {
        version: 2,
        description: "chunks",
        sql: include_str!("../../../../../sql/search/sqlite/0002_chunks.sql"),
    },
];

/// Applies the pending migrations; returns how many ran.
pub async fn run(pool: &SqlitePool) -> Result<usize, sqlx::Error> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    // `Executor::execute` with a plain string runs every statement in it; `raw_sql(..)` would
    // too, but its future is not `Send` for every lifetime, which `Subgraph::open` requires.
    (&mut *tx)
        .execute(
            "CREATE TABLE IF NOT EXISTS _polygate_migrations (
                version INTEGER PRIMARY KEY,
                description TEXT NOT NULL)",
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
