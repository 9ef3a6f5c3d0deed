//! A tiny migration runner for SQL files compiled into the binary.
//!
//! Non-obvious: sqlx's `migrate!` macro needs the `macros` feature, which the workspace leaves off,
//! and `Migrator::new(path)` would need the files at run time; so each file is `include_str!`-ed
//! and applied here. All pending migrations and their bookkeeping rows in
//! `_polygate_migrations` commit in one transaction; on Postgres an advisory lock serialises
//! replicas that start at the same time. Re-running is a no-op.

use sqlx::{PgPool, SqlitePool};

/// One forward-only migration.
pub struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

pub const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        description: "users",
        sql: include_str!("../../../sql/commerce/postgres/0001_users.sql"),
    },
    Migration {
        version: 2,
        description: "catalog",
        sql: include_str!("../../../sql/commerce/postgres/0002_catalog.sql"),
    },
    Migration {
        version: 3,
        description: "orders",
        sql: include_str!("../../../sql/commerce/postgres/0003_orders.sql"),
    },
    Migration {
        version: 4,
        description: "partition maintenance",
        sql: include_str!("../../../sql/commerce/postgres/0004_partition_maintenance.sql"),
    },
    Migration {
        version: 5,
        description: "order placement and sharding",
        sql: include_str!("../../../sql/commerce/postgres/0005_order_placement.sql"),
    },
    Migration {
        version: 6,
        description: "place an order in one transaction",
        sql: include_str!("../../../sql/commerce/postgres/0006_place_order_at_once.sql"),
    },
    Migration {
        version: 7,
        description: "product documents view",
        sql: include_str!("../../../sql/commerce/postgres/0007_product_documents.sql"),
    },
    Migration {
        version: 8,
        description: "place orders together",
        sql: include_str!("../../../sql/commerce/postgres/0008_place_orders_together.sql"),
    },
    Migration {
        version: 9,
        description: "partition maintenance takes its clock",
        sql: include_str!("../../../sql/commerce/postgres/0009_maintenance_clock.sql"),
    },
    Migration {
        version: 10,
        description: "order lifecycle: addresses, payments, shipping",
        sql: include_str!("../../../sql/commerce/postgres/0010_order_lifecycle.sql"),
    },
    Migration {
        version: 11,
        description: "retention of settled rows; upkeep over every monthly table",
        sql: include_str!("../../../sql/commerce/postgres/0011_retention_and_upkeep.sql"),
    },
    Migration {
        version: 12,
        description: "autovacuum for payments, fillfactor for inventory",
        sql: include_str!("../../../sql/commerce/postgres/0012_autovacuum_and_fillfactor.sql"),
    },
    Migration {
        version: 13,
        description: "final payments leave the hot table for an archive",
        sql: include_str!("../../../sql/commerce/postgres/0013_payments_retention.sql"),
    },
];

/// Same versions as [`POSTGRES`]; versions 4, 6, 7 and 8 are no-ops here (no partitioning, no stored
/// functions, and the product SELECT lives in the adapter).
pub const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        description: "users",
        sql: include_str!("../../../sql/commerce/sqlite/0001_users.sql"),
    },
    Migration {
        version: 2,
        description: "catalog",
        sql: include_str!("../../../sql/commerce/sqlite/0002_catalog.sql"),
    },
    Migration {
        version: 3,
        description: "orders",
        sql: include_str!("../../../sql/commerce/sqlite/0003_orders.sql"),
    },
    Migration {
        version: 4,
        description: "partition maintenance",
        sql: include_str!("../../../sql/commerce/sqlite/0004_partition_maintenance.sql"),
    },
    Migration {
        version: 5,
        description: "order placement",
        sql: include_str!("../../../sql/commerce/sqlite/0005_order_placement.sql"),
    },
    Migration {
        version: 6,
        description: "place an order in one transaction",
        sql: include_str!("../../../sql/commerce/sqlite/0006_place_order_at_once.sql"),
    },
    Migration {
        version: 7,
        description: "product documents view",
        sql: include_str!("../../../sql/commerce/sqlite/0007_product_documents.sql"),
    },
    Migration {
        version: 8,
        description: "place orders together",
        sql: include_str!("../../../sql/commerce/sqlite/0008_place_orders_together.sql"),
    },
    Migration {
        version: 9,
        description: "partition maintenance takes its clock",
        sql: include_str!("../../../sql/commerce/sqlite/0009_maintenance_clock.sql"),
    },
    Migration {
        version: 10,
        description: "order lifecycle: addresses, payments, shipping",
        sql: include_str!("../../../sql/commerce/sqlite/0010_order_lifecycle.sql"),
    },
    Migration {
        version: 11,
        description: "retention of settled rows; upkeep over every monthly table",
        sql: include_str!("../../../sql/commerce/sqlite/0011_retention_and_upkeep.sql"),
    },
    Migration {
        version: 12,
        description: "autovacuum for payments, fillfactor for inventory (Postgres only)",
        sql: include_str!("../../../sql/commerce/sqlite/0012_autovacuum_and_fillfactor.sql"),
    },
    Migration {
        version: 13,
        description: "final payments leave the hot table for an archive",
        sql: include_str!("../../../sql/commerce/sqlite/0013_payments_retention.sql"),
    },
];

/// An arbitrary constant shared by every commerce replica.
const PG_LOCK_KEY: i64 = 0x706f_6c79_6761_7465; // "polygate"

/// Applies the pending Postgres migrations; returns how many ran.
pub async fn postgres(pool: &PgPool) -> Result<usize, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(PG_LOCK_KEY)
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS _polygate_migrations (
            version BIGINT PRIMARY KEY,
            description TEXT NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .execute(&mut *tx)
    .await?;
    let mut applied = 0;
    for m in POSTGRES {
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM _polygate_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await?;
        if done.is_none() {
            sqlx::raw_sql(m.sql).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO _polygate_migrations (version, description) VALUES ($1, $2)")
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

/// Applies the pending SQLite migrations; returns how many ran.
pub async fn sqlite(pool: &SqlitePool) -> Result<usize, sqlx::Error> {
    // IMMEDIATE takes the write lock up front, so two processes cannot both decide to migrate.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS _polygate_migrations (
            version INTEGER PRIMARY KEY,
            description TEXT NOT NULL,
            applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))",
    )
    .execute(&mut *tx)
    .await?;
    let mut applied = 0;
    for m in SQLITE {
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM _polygate_migrations WHERE version = ?")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await?;
        if done.is_none() {
            sqlx::raw_sql(m.sql).execute(&mut *tx).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_strictly_increasing_and_match_across_engines() {
        for list in [POSTGRES, SQLITE] {
            assert!(list.windows(2).all(|w| w[0].version < w[1].version));
        }
        let versions = |l: &[Migration]| l.iter().map(|m| m.version).collect::<Vec<_>>();
        assert_eq!(versions(POSTGRES), versions(SQLITE));
    }
}
