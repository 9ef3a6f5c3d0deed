//! Partition maintenance for the Postgres store: monthly partitions of `orders` and `order_items`
//! made ahead of time, old months DETACHed (never dropped) for archiving.
//!
//! Non-obvious: the engine is chosen at run time. When the `pg_partman` extension is installed
//! *and* both tables are registered in its `part_config`, [`maintain_partitions`] writes the
//! requested premake/retention into that config and calls its `run_maintenance`; otherwise it
//! calls our SQL routine `commerce_maintain_partitions` (migration 0004). pg_partman does not
//! know that a detached `order_items` month still references `orders` through its foreign key,
//! so we run it on `order_items` first and drop the detached tables' foreign keys before the
//! `orders` run, exactly as our routine does. Either way the DDL runs in one transaction.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};

/// Which routine did the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// pg_partman's `run_maintenance`.
    PgPartman,
    /// Our `commerce_maintain_partitions` SQL function.
    Builtin,
}

/// What one maintenance run changed. Partition names are as Postgres shows them on the search
/// path (e.g. `orders_p2026_12`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub engine: Engine,
    /// Partitions created by this run.
    pub created: Vec<String>,
    /// Partitions detached by this run; they remain as plain tables for export.
    pub detached: Vec<String>,
    /// Builtin only: months not created because the DEFAULT partition holds rows of them.
    pub blocked: Vec<String>,
    /// Rows in `orders_default` + `order_items_default` after the run; should be 0.
    pub default_rows: i64,
}

/// The partitioned parents, in the order they must be detached (lines before orders).
const PARENTS: [&str; 2] = ["order_items", "orders"];

/// Makes sure the month of `as_of` (the caller's clock: `Utc::now()` in production) and the next
/// `premake` months have partitions and detaches the months that ended more than
/// `retain_months` months before it. Idempotent.
///
/// pg_partman reads the database's own clock, so `as_of` only steers our routine.
pub async fn maintain_partitions(
    pool: &PgPool,
    premake: u32,
    retain_months: u32,
    as_of: DateTime<Utc>,
) -> Result<Report, sqlx::Error> {
    let premake = i32::try_from(premake).unwrap_or(i32::MAX);
    let retain = i32::try_from(retain_months).unwrap_or(i32::MAX);
    let mut tx = pool.begin().await?;
    let mut report = match partman_schema(&mut tx).await? {
        Some(schema) => run_partman(&mut tx, &schema, premake, retain).await?,
        None => run_builtin(&mut tx, premake, retain, as_of).await?,
    };
    report.default_rows = sqlx::query_scalar("SELECT commerce_default_partition_rows()")
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(report)
}

/// The schema of pg_partman when it is installed and manages both tables, else `None`.
async fn partman_schema(tx: &mut Transaction<'_, Postgres>) -> Result<Option<String>, sqlx::Error> {
    let schema: Option<String> = sqlx::query_scalar(
        "SELECT n.nspname::text FROM pg_extension e
         JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_partman'",
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(schema) = schema else {
        return Ok(None);
    };
    let configured: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {} WHERE parent_table = ANY($1)",
        qualified(&schema, "part_config")
    ))
    .bind(qualified_parents(tx).await?)
    .fetch_one(&mut **tx)
    .await?;
    Ok((configured == PARENTS.len() as i64).then_some(schema))
}

async fn run_builtin(
    tx: &mut Transaction<'_, Postgres>,
    premake: i32,
    retain: i32,
    as_of: DateTime<Utc>,
) -> Result<Report, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, partition_name FROM commerce_maintain_partitions($1, $2, $3)",
    )
    .bind(premake)
    .bind(retain)
    .bind(as_of)
    .fetch_all(&mut **tx)
    .await?;
    let mut report = Report {
        engine: Engine::Builtin,
        created: Vec::new(),
        detached: Vec::new(),
        blocked: Vec::new(),
        default_rows: 0,
    };
    for (action, name) in rows {
        match action.as_str() {
            "created" => report.created.push(name),
            "detached" => report.detached.push(name),
            _ => report.blocked.push(name),
        }
    }
    Ok(report)
}

async fn run_partman(
    tx: &mut Transaction<'_, Postgres>,
    schema: &str,
    premake: i32,
    retain: i32,
) -> Result<Report, sqlx::Error> {
    let parents = qualified_parents(tx).await?;
    // The arguments are the source of truth; detached months are kept as tables for export, and
    // future months are made even when no new rows have arrived (infinite_time_partitions).
    sqlx::query(&format!(
        "UPDATE {} SET premake = $1, retention = $2, retention_keep_table = true,
                infinite_time_partitions = true
         WHERE parent_table = ANY($3)",
        qualified(schema, "part_config")
    ))
    .bind(premake)
    .bind(format!("{retain} months"))
    .bind(&parents)
    .execute(&mut **tx)
    .await?;
    let before = children(tx).await?;
    for parent in &parents {
        let kids_before = children_of(tx, parent).await?;
        sqlx::query(&format!(
            "SELECT {}(p_parent_table := $1)",
            qualified(schema, "run_maintenance")
        ))
        .bind(parent)
        .execute(&mut **tx)
        .await?;
        let kids_after = children_of(tx, parent).await?;
        for gone in kids_before.difference(&kids_after) {
            sqlx::query("SELECT commerce_drop_foreign_keys($1::regclass)")
                .bind(gone)
                .execute(&mut **tx)
                .await?;
        }
    }
    let after = children(tx).await?;
    Ok(Report {
        engine: Engine::PgPartman,
        created: after.difference(&before).cloned().collect(),
        detached: before.difference(&after).cloned().collect(),
        blocked: Vec::new(),
        default_rows: 0,
    })
}

/// `schema.table` for both parents, as pg_partman stores them (in `PARENTS` order).
async fn qualified_parents(tx: &mut Transaction<'_, Postgres>) -> Result<Vec<String>, sqlx::Error> {
    let mut out = Vec::with_capacity(PARENTS.len());
    for parent in PARENTS {
        let name: String = sqlx::query_scalar(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)",
        )
        .bind(parent)
        .fetch_one(&mut **tx)
        .await?;
        out.push(name);
    }
    Ok(out)
}

async fn children(tx: &mut Transaction<'_, Postgres>) -> Result<BTreeSet<String>, sqlx::Error> {
    let mut all = BTreeSet::new();
    for parent in PARENTS {
        all.extend(children_of(tx, parent).await?);
    }
    Ok(all)
}

/// The partitions currently attached to `parent`.
async fn children_of(
    tx: &mut Transaction<'_, Postgres>,
    parent: &str,
) -> Result<BTreeSet<String>, sqlx::Error> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT i.inhrelid::regclass::text FROM pg_inherits i WHERE i.inhparent = to_regclass($1)",
    )
    .bind(parent)
    .fetch_all(&mut **tx)
    .await?;
    Ok(names.into_iter().collect())
}

fn qualified(schema: &str, object: &str) -> String {
    format!("\"{}\".{object}", schema.replace('"', "\"\""))
}
