//! The telemetry migrations, compiled into the binary, and the runner that applies them.
//!
//! Non-obvious: on PostgreSQL the list depends on the edition detected at start-up (range
//! partitions and our rollup tables, hypertables and our rollup tables, or hypertables and
//! continuous aggregates), and the edition a database was first migrated under is recorded in
//! `telemetry_migrations`. A database created on plain PostgreSQL that later gains the
//! extension keeps its partitions: opening it under another edition is refused with both names,
//! rather than mixing partitions and hypertables.

use sqlx::{PgPool, SqlitePool};

use crate::store::Edition;

/// One forward-only migration.
pub struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

macro_rules! sql {
    ($path:literal) => {
        include_str!(concat!("../../../sql/telemetry/", $path))
    };
}

pub const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        description: "hosts",
        sql: sql!("sqlite/0001_hosts.sql"),
    },
    Migration {
        version: 2,
        description: "readings",
        sql: sql!("sqlite/0002_readings.sql"),
    },
    Migration {
        version: 3,
        description: "rollups",
        sql: sql!("sqlite/0003_rollups.sql"),
    },
];

pub const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        description: "hosts",
        sql: sql!("postgres/0001_hosts.sql"),
    },
    Migration {
        version: 2,
        description: "readings as daily range partitions",
        sql: sql!("postgres/0002_readings.sql"),
    },
    Migration {
        version: 3,
        description: "rollup tables",
        sql: sql!("postgres/0003_rollups.sql"),
    },
];

pub const TIMESCALE_APACHE: &[Migration] = &[
    Migration {
        version: 1,
        description: "hosts",
        sql: sql!("postgres/0001_hosts.sql"),
    },
    Migration {
        version: 2,
        description: "readings as hypertables",
        sql: sql!("timescaledb/0002_readings.sql"),
    },
    Migration {
        version: 3,
        description: "rollup hypertables",
        sql: sql!("timescaledb/0003_rollups.sql"),
    },
];

pub const TIMESCALE_LICENSED: &[Migration] = &[
    Migration {
        version: 1,
        description: "hosts",
        sql: sql!("postgres/0001_hosts.sql"),
    },
    Migration {
        version: 2,
        description: "readings as hypertables",
        sql: sql!("timescaledb/0002_readings.sql"),
    },
    Migration {
        version: 3,
        description: "continuous aggregates",
        sql: sql!("timescaledb/licensed/0003_continuous_aggregates.sql"),
    },
    Migration {
        version: 4,
        description: "compression and policies",
        sql: sql!("timescaledb/licensed/0004_compression_and_policies.sql"),
    },
];

/// The migrations of an edition.
pub fn for_edition(edition: Edition) -> &'static [Migration] {
    match edition {
        Edition::Sqlite => SQLITE,
        Edition::Postgres => POSTGRES,
        Edition::TimescaleApache => TIMESCALE_APACHE,
        Edition::TimescaleLicensed => TIMESCALE_LICENSED,
    }
}

/// How an edition is recorded in `telemetry_migrations`.
pub fn edition_label(edition: Edition) -> &'static str {
    match edition {
        Edition::Sqlite => "sqlite",
        Edition::Postgres => "postgres",
        Edition::TimescaleApache => "timescaledb-apache",
        Edition::TimescaleLicensed => "timescaledb-licensed",
    }
}

/// An arbitrary constant shared by every telemetry process ("telemetr").
const PG_LOCK_KEY: i64 = 0x7465_6c65_6d65_7472;

/// Applies the pending PostgreSQL migrations of `edition`; returns how many ran.
pub async fn postgres(pool: &PgPool, edition: Edition) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(PG_LOCK_KEY)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS telemetry_migrations (
            version bigint PRIMARY KEY,
            description text NOT NULL,
            edition text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .execute(&mut *tx)
    .await?;
    let label = edition_label(edition);
    let earlier: Option<String> =
        sqlx::query_scalar("SELECT edition FROM telemetry_migrations ORDER BY version LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(earlier) = earlier.filter(|e| e != label) {
        anyhow::bail!(
            "this database was set up for {earlier} and the server now runs {label}; \
             migrate its data into a new database (or set timescaledb = \"off\" for {earlier})"
        );
    }
    let mut applied = 0;
    for m in for_edition(edition) {
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM telemetry_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await?;
        if done.is_none() {
            sqlx::Executor::execute(&mut *tx, m.sql).await?;
            sqlx::query(
                "INSERT INTO telemetry_migrations (version, description, edition) VALUES ($1, $2, $3)",
            )
            .bind(m.version)
            .bind(m.description)
            .bind(label)
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
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS telemetry_migrations (
            version INTEGER PRIMARY KEY,
            description TEXT NOT NULL,
            applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))",
    )
    .execute(&mut *tx)
    .await?;
    let mut applied = 0;
    for m in SQLITE {
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM telemetry_migrations WHERE version = ?")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await?;
        if done.is_none() {
            sqlx::Executor::execute(&mut *tx, m.sql).await?;
            sqlx::query("INSERT INTO telemetry_migrations (version, description) VALUES (?, ?)")
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
    use crate::domain::Measurement;

    #[test]
    fn versions_are_strictly_increasing() {
        for list in [SQLITE, POSTGRES, TIMESCALE_APACHE, TIMESCALE_LICENSED] {
            assert!(list.windows(2).all(|w| w[0].version < w[1].version));
        }
    }

    /// The column list in `domain::metric` and the migrations must agree on every engine: a
    /// metric without its column (or the reverse) fails here, not in a query.
    #[test]
    fn every_migration_creates_exactly_the_metric_columns() {
        let all: Vec<&Migration> = [SQLITE, POSTGRES, TIMESCALE_APACHE, TIMESCALE_LICENSED]
            .iter()
            .flat_map(|l| l.iter())
            .collect();
        let text: String = all.iter().map(|m| m.sql).collect();
        for &measurement in Measurement::ALL {
            for column in measurement.columns() {
                for needle in [
                    format!("    {column} "),
                    format!("{column}_sum"),
                    format!("{column}_min"),
                    format!("{column}_max"),
                ] {
                    assert!(text.contains(&needle), "{measurement}.{needle} missing");
                }
            }
        }
        for sql in [SQLITE[1].sql, POSTGRES[1].sql, TIMESCALE_APACHE[1].sql] {
            let tables = sql.matches("CREATE TABLE ").count();
            assert_eq!(tables, Measurement::ALL.len());
            let columns: usize = Measurement::ALL.iter().map(|m| m.columns().len()).sum();
            let declared = sql.matches(" NOT NULL").count() - 2 * Measurement::ALL.len();
            assert_eq!(declared, columns, "value columns of every raw table");
        }
    }
}
