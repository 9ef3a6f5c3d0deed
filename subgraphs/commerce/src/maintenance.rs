//! Partition maintenance for one Postgres database: the monthly partitions of `orders`,
//! `order_items` and the two archives (`order_requests_archive`, `stock_reservations_archive`)
//! made ahead of time, and old months DETACHed (never dropped) for archiving.
//!
//! Non-obvious:
//! - The engine is chosen at run time. When the `pg_partman` extension is installed *and*
//!   `orders` and `order_items` are registered in its `part_config`, [`maintain_partitions`]
//!   writes the requested premake/retention into that config and calls its `run_maintenance` for
//!   them (`order_items` first: pg_partman does not know that a detached lines month still
//!   references `orders`, so their foreign keys are dropped before the `orders` run); our SQL
//!   routines (migrations 0004, 0009, 0011) do everything else.
//! - A month is detached `CONCURRENTLY` where PostgreSQL allows it: the table has no DEFAULT
//!   partition (the archives never do; `orders` and `order_items` do, to keep a checkout from
//!   failing on a missing month). A concurrent detach cannot run in a transaction, so the pass
//!   runs on a connection of its own, serialised with any other pass (and with the SQL routine
//!   `commerce_maintain_partitions`, which pg_cron may run) by a session advisory lock; a detach
//!   cut short is left "pending" by PostgreSQL and finished (`FINALIZE`) by the next pass.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{ConnectOptions as _, Connection as _, PgConnection, PgPool};

/// Which routine made the months of `orders` and `order_items`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// pg_partman's `run_maintenance`.
    PgPartman,
    /// Our `commerce_create_month_partitions` / `commerce_partitions_ending_by` SQL functions.
    Builtin,
}

/// What one maintenance run changed. Partition names are as Postgres shows them on the search
/// path (e.g. `orders_p2026_12`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub engine: Engine,
    /// Partitions created by this run.
    pub created: Vec<String>,
    /// Partitions detached by this run (in detach order); they remain as plain tables for export.
    pub detached: Vec<String>,
    /// Those of `detached` that were detached `CONCURRENTLY` (or finished with `FINALIZE`).
    pub detached_concurrently: Vec<String>,
    /// Months not created because the DEFAULT partition holds rows of them.
    pub blocked: Vec<String>,
    /// Rows in `orders_default` + `order_items_default` after the run; should be 0.
    pub default_rows: i64,
}

/// The tables pg_partman may manage, in the order they must be detached (lines before orders).
const PARTMAN_PARENTS: [&str; 2] = ["order_items", "orders"];
/// The tables our routines always manage.
const ARCHIVES: [&str; 2] = ["order_requests_archive", "stock_reservations_archive"];
/// One key for every pass and for the SQL routine (`pg_advisory_xact_lock(hashtext(…))`).
const PASS_LOCK: &str = "SELECT pg_advisory_lock(hashtext('commerce_maintain_partitions'))";
/// A concurrent detach waits for every transaction that can see the partition; give it time,
/// while `lock_timeout` (from the pool's options) still keeps the plain DETACH from queueing.
const PASS_STATEMENT_TIMEOUT: &str = "SET statement_timeout = '60s'";

/// Makes sure the month of `as_of` (the caller's clock: `Utc::now()` in production) and the next
/// `premake` months have partitions and detaches the months that ended on or before the first
/// day of the month `retain_months` before it. Idempotent.
///
/// pg_partman reads the database's own clock, so `as_of` only steers our routines.
pub async fn maintain_partitions(
    pool: &PgPool,
    premake: u32,
    retain_months: u32,
    as_of: DateTime<Utc>,
) -> Result<Report, sqlx::Error> {
    let premake = i32::try_from(premake).unwrap_or(i32::MAX);
    let retain = i32::try_from(retain_months).unwrap_or(i32::MAX);
    // Its own connection: the session lock goes away with it, whatever happens below.
    let mut conn = pool.connect_options().connect().await?;
    sqlx::query(PASS_STATEMENT_TIMEOUT)
        .execute(&mut conn)
        .await?;
    sqlx::query(PASS_LOCK).execute(&mut conn).await?;
    let report = run(&mut conn, premake, retain, as_of).await;
    conn.close().await?;
    report
}

async fn run(
    conn: &mut PgConnection,
    premake: i32,
    retain: i32,
    as_of: DateTime<Utc>,
) -> Result<Report, sqlx::Error> {
    let mut tx = conn.begin().await?;
    let partman = partman_schema(&mut tx).await?;
    let mut report = Report {
        engine: Engine::Builtin,
        created: Vec::new(),
        detached: Vec::new(),
        detached_concurrently: Vec::new(),
        blocked: Vec::new(),
        default_rows: 0,
    };
    let ours: Option<Vec<String>> = match &partman {
        Some(schema) => {
            report.engine = Engine::PgPartman;
            let (created, detached) = run_partman(&mut tx, schema, premake, retain).await?;
            report.created.extend(created);
            report.detached.extend(detached);
            Some(ARCHIVES.iter().map(|t| t.to_string()).collect())
        }
        None => None,
    };
    create_months(&mut tx, premake, as_of, ours.as_deref(), &mut report).await?;
    tx.commit().await?;

    let cutoff: DateTime<Utc> = sqlx::query_scalar(
        "SELECT (date_trunc('month', $1 AT TIME ZONE 'UTC') - make_interval(months => $2))
                AT TIME ZONE 'UTC'",
    )
    .bind(as_of)
    .bind(retain)
    .fetch_one(&mut *conn)
    .await?;
    detach_months(conn, cutoff, ours.as_deref(), &mut report).await?;
    report.default_rows = sqlx::query_scalar("SELECT commerce_default_partition_rows()")
        .fetch_one(&mut *conn)
        .await?;
    Ok(report)
}

async fn create_months(
    conn: &mut PgConnection,
    premake: i32,
    as_of: DateTime<Utc>,
    parents: Option<&[String]>,
    report: &mut Report,
) -> Result<(), sqlx::Error> {
    if !(0..=120).contains(&premake) {
        return Err(sqlx::Error::Protocol(format!(
            "premake must be between 0 and 120, not {premake}"
        )));
    }
    for month in 0..=premake {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT action, partition_name FROM commerce_create_month_partitions(
                 date_trunc('month', $1 AT TIME ZONE 'UTC') + make_interval(months => $2), $3)",
        )
        .bind(as_of)
        .bind(month)
        .bind(parents)
        .fetch_all(&mut *conn)
        .await?;
        for (action, name) in rows {
            match action.as_str() {
                "created" => report.created.push(name),
                _ => report.blocked.push(name),
            }
        }
    }
    Ok(())
}

/// Detaches every month ending by `cutoff`: concurrently, one statement at a time outside any
/// transaction, where the table allows it; otherwise in a short transaction of its own.
async fn detach_months(
    conn: &mut PgConnection,
    cutoff: DateTime<Utc>,
    parents: Option<&[String]>,
    report: &mut Report,
) -> Result<(), sqlx::Error> {
    let due: Vec<(String, String, bool, bool)> = sqlx::query_as(
        "SELECT parent, partition_name, pending, online
         FROM commerce_partitions_ending_by($1, $2)",
    )
    .bind(cutoff)
    .bind(parents)
    .fetch_all(&mut *conn)
    .await?;
    for (parent, child, pending, online) in due {
        let parent_sql = quoted(&parent);
        if pending || online {
            let how = if pending { "FINALIZE" } else { "CONCURRENTLY" };
            let detach = format!("ALTER TABLE {parent_sql} DETACH PARTITION {child} {how}");
            sqlx::query(&detach)
                .persistent(false)
                .execute(&mut *conn)
                .await?;
            sqlx::query("SELECT commerce_drop_foreign_keys($1::regclass)")
                .bind(&child)
                .execute(&mut *conn)
                .await?;
            report.detached_concurrently.push(child.clone());
        } else {
            let mut tx = conn.begin().await?;
            let detach = format!("ALTER TABLE {parent_sql} DETACH PARTITION {child}");
            sqlx::query(&detach)
                .persistent(false)
                .execute(&mut *tx)
                .await?;
            sqlx::query("SELECT commerce_drop_foreign_keys($1::regclass)")
                .bind(&child)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        report.detached.push(child);
    }
    Ok(())
}

/// The schema of pg_partman when it is installed and manages both tables, else `None`.
async fn partman_schema(conn: &mut PgConnection) -> Result<Option<String>, sqlx::Error> {
    let schema: Option<String> = sqlx::query_scalar(
        "SELECT n.nspname::text FROM pg_extension e
         JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_partman'",
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(schema) = schema else {
        return Ok(None);
    };
    let configured: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {} WHERE parent_table = ANY($1)",
        qualified(&schema, "part_config")
    ))
    .bind(qualified_parents(conn).await?)
    .fetch_one(&mut *conn)
    .await?;
    Ok((configured == PARTMAN_PARENTS.len() as i64).then_some(schema))
}

/// pg_partman's maintenance of `orders` and `order_items`: (created, detached).
async fn run_partman(
    conn: &mut PgConnection,
    schema: &str,
    premake: i32,
    retain: i32,
) -> Result<(Vec<String>, Vec<String>), sqlx::Error> {
    let parents = qualified_parents(conn).await?;
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
    .execute(&mut *conn)
    .await?;
    let before = children(conn).await?;
    for parent in &parents {
        let kids_before = children_of(conn, parent).await?;
        sqlx::query(&format!(
            "SELECT {}(p_parent_table := $1)",
            qualified(schema, "run_maintenance")
        ))
        .bind(parent)
        .execute(&mut *conn)
        .await?;
        let kids_after = children_of(conn, parent).await?;
        for gone in kids_before.difference(&kids_after) {
            sqlx::query("SELECT commerce_drop_foreign_keys($1::regclass)")
                .bind(gone)
                .execute(&mut *conn)
                .await?;
        }
    }
    let after = children(conn).await?;
    Ok((
        after.difference(&before).cloned().collect(),
        before.difference(&after).cloned().collect(),
    ))
}

/// `schema.table` for both pg_partman parents, as pg_partman stores them.
async fn qualified_parents(conn: &mut PgConnection) -> Result<Vec<String>, sqlx::Error> {
    let mut out = Vec::with_capacity(PARTMAN_PARENTS.len());
    for parent in PARTMAN_PARENTS {
        let name: String = sqlx::query_scalar(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)",
        )
        .bind(parent)
        .fetch_one(&mut *conn)
        .await?;
        out.push(name);
    }
    Ok(out)
}

async fn children(conn: &mut PgConnection) -> Result<BTreeSet<String>, sqlx::Error> {
    let mut all = BTreeSet::new();
    for parent in PARTMAN_PARENTS {
        all.extend(children_of(conn, parent).await?);
    }
    Ok(all)
}

/// The partitions currently attached to `parent`.
async fn children_of(
    conn: &mut PgConnection,
    parent: &str,
) -> Result<BTreeSet<String>, sqlx::Error> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT i.inhrelid::regclass::text FROM pg_inherits i WHERE i.inhparent = to_regclass($1)",
    )
    .bind(parent)
    .fetch_all(&mut *conn)
    .await?;
    Ok(names.into_iter().collect())
}

fn qualified(schema: &str, object: &str) -> String {
    format!("{}.{object}", quoted(schema))
}

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// How long one pass may take before the scheduler gives up on it (a stuck DETACH).
pub const PASS_TIMEOUT: Duration = Duration::from_secs(600);
