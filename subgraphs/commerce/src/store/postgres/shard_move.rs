//! Moving one logical shard to another database: fence, copy, switch the map — and, after every
//! router has seen the new map, purge the old copy.
//!
//! Non-obvious:
//! - Step 1 deletes the shard's ownership row in the old database. That waits for every write
//!   transaction holding it (they lock it in share mode), and afterwards every write to the shard
//!   there fails with `ShardMoving`; routers retry until the map points at the new home. So the
//!   copy sees a shard no one can change, and nothing written is lost.
//! - Step 2 copies with `COPY … (FORMAT binary)` streamed from one server to the other, in one
//!   transaction on the target that also takes ownership, so the target owns the shard only with
//!   all of its rows. Rows of the shard already in the target (left by an interrupted move) are
//!   deleted first, so re-running a failed move is safe.
//! - Writes to the shard stall for the copy's duration. A logical shard is 1/256 of the users, so
//!   that is seconds even at scale; the design doc discusses an online (logical replication)
//!   variant for larger shards.

use futures::TryStreamExt as _;
use sqlx::{Connection, PgConnection, PgPool};

use super::PostgresStore;
use crate::store::{StoreError, from_sqlx};

/// The shard's rows, table by table in foreign-key order, with the column holding the shard.
/// The archive of the shard's settled requests moves too (its attached months; COPY routes each
/// row to the target's partition of its month, which the target's upkeep makes like the source's),
/// and so does the archive of its payments (one table, kept for ever).
const TABLES: [(&str, &str); 8] = [
    ("users", "id"),
    ("addresses", "user_id"),
    ("order_requests", "user_id"),
    ("order_requests_archive", "user_id"),
    ("orders", "id"),
    ("order_items", "order_id"),
    ("payments", "order_id"),
    ("payments_archive", "order_id"),
];

/// What a move did: rows copied per table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveReport {
    pub shard: u16,
    pub from: String,
    pub to: String,
    pub copied: Vec<(&'static str, u64)>,
}

fn of_shard(column: &str, shard: u16) -> String {
    // The shard sits above the 10 sequence bits of every id (ids.rs).
    format!("(({column} >> 10) & 8191) = {shard}")
}

/// Moves `shard` to the database named `to`. The old home keeps a frozen copy until
/// [`purge_moved_shard`].
pub async fn move_shard(
    store: &PostgresStore,
    shard: u16,
    to: &str,
) -> Result<MoveReport, StoreError> {
    if shard >= crate::ids::LOGICAL_SHARDS {
        return Err(StoreError::Other(format!("no logical shard {shard}")));
    }
    store.reload_map().await?;
    let from_name = store.home_of(shard).to_owned();
    let target = store
        .database(to)
        .ok_or_else(|| StoreError::Other(format!("no database named {to:?}")))?;
    let source = store
        .database(&from_name)
        .expect("the map names only known databases");
    let mut report = MoveReport {
        shard,
        from: from_name.clone(),
        to: to.to_owned(),
        copied: Vec::new(),
    };
    if from_name == to {
        return Ok(report);
    }

    // 1. Fence: no more writes to the shard in its old home.
    committed(
        &source.primary,
        "DELETE FROM shard_ownership WHERE logical_shard = $1",
        shard,
    )
    .await?;

    // 2. Copy, and take ownership in the same transaction. If that fails, the old home takes
    //    the shard back (the map still points there), so a failed move costs a stall, not an
    //    outage; the move can be run again.
    if let Err(e) = copy_and_own(&source.primary, &target.primary, shard, &mut report).await {
        committed(
            &source.primary,
            "INSERT INTO shard_ownership (logical_shard) VALUES ($1) ON CONFLICT DO NOTHING",
            shard,
        )
        .await?;
        return Err(e);
    }

    // 3. Switch the map; routers with the old map learn it from the fence.
    let mut tx = store.pool().begin().await.map_err(from_sqlx)?;
    sqlx::query("UPDATE shard_map SET database = $2, moved_at = now() WHERE logical_shard = $1")
        .bind(shard as i16)
        .bind(to)
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)?;
    store.reload_map().await?;
    Ok(report)
}

/// Runs `statement` (bound to `shard`) in a transaction committed before returning: a step of
/// the move must be durable before the next one starts, also behind a transaction pooler.
async fn committed(pool: &PgPool, statement: &str, shard: u16) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(from_sqlx)?;
    sqlx::query(statement)
        .bind(shard as i16)
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)
}

/// Step 4, once every router has seen the new map: deletes `shard`'s rows from every database
/// that does not own it. Returns the rows deleted per database.
///
/// Separate from the move because routers learn of a move on their next map refresh
/// ([`super::MAP_REFRESH`]) or their next write to the shard; until then their *reads* still go to
/// the old home, which keeps serving the (frozen, complete) copy. Purge after that grace.
pub async fn purge_moved_shard(
    store: &PostgresStore,
    shard: u16,
) -> Result<Vec<(String, u64)>, StoreError> {
    store.reload_map().await?;
    let home = store.home_of(shard).to_owned();
    let mut purged = Vec::new();
    for db in store.databases.iter().filter(|d| d.name != home) {
        let mut tx = db.primary.begin().await.map_err(from_sqlx)?;
        let owned: Option<i16> = sqlx::query_scalar(
            "SELECT logical_shard FROM shard_ownership WHERE logical_shard = $1",
        )
        .bind(shard as i16)
        .fetch_optional(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        if owned.is_some() {
            return Err(StoreError::Other(format!(
                "database {} still owns shard {shard}, which the map places in {home}",
                db.name
            )));
        }
        let before: u64 = rows_of(&mut tx, shard).await?;
        delete_shard(&mut tx, shard).await?;
        tx.commit().await.map_err(from_sqlx)?;
        purged.push((db.name.clone(), before));
    }
    Ok(purged)
}

async fn rows_of(conn: &mut PgConnection, shard: u16) -> Result<u64, StoreError> {
    let mut total = 0;
    for (table, column) in TABLES {
        total += count(&mut *conn, table, &of_shard(column, shard)).await?;
    }
    Ok(total)
}

/// Streams the shard's rows from `source` to `target` and makes `target` own the shard, in one
/// transaction on `target`; records the rows copied per table in `report`.
async fn copy_and_own(
    source: &PgPool,
    target: &PgPool,
    shard: u16,
    report: &mut MoveReport,
) -> Result<(), StoreError> {
    let mut reader = source.acquire().await.map_err(from_sqlx)?;
    let mut writer = target.acquire().await.map_err(from_sqlx)?;
    let mut tx = writer.begin().await.map_err(from_sqlx)?;
    delete_shard(&mut tx, shard).await?;
    for (table, column) in TABLES {
        let filter = of_shard(column, shard);
        let mut rows_out = reader
            .copy_out_raw(&format!(
                "COPY (SELECT * FROM {table} WHERE {filter}) TO STDOUT (FORMAT binary)"
            ))
            .await
            .map_err(from_sqlx)?;
        let mut rows_in = tx
            .copy_in_raw(&format!("COPY {table} FROM STDIN (FORMAT binary)"))
            .await
            .map_err(from_sqlx)?;
        while let Some(chunk) = rows_out.try_next().await.map_err(from_sqlx)? {
            rows_in.send(chunk).await.map_err(from_sqlx)?;
        }
        drop(rows_out);
        let copied = rows_in.finish().await.map_err(from_sqlx)?;
        let expected = count(&mut reader, table, &filter).await?;
        if copied != expected {
            return Err(StoreError::Other(format!(
                "copied {copied} rows of {table} but the source has {expected}; nothing switched"
            )));
        }
        report.copied.push((table, copied));
    }
    sqlx::query("INSERT INTO shard_ownership (logical_shard) VALUES ($1)")
        .bind(shard as i16)
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)
}

/// Deletes the shard's rows and ownership from one database, children first.
async fn delete_shard(conn: &mut PgConnection, shard: u16) -> Result<(), StoreError> {
    for (table, column) in TABLES.iter().rev() {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE {}",
            of_shard(column, shard)
        ))
        .execute(&mut *conn)
        .await
        .map_err(from_sqlx)?;
    }
    sqlx::query("DELETE FROM shard_ownership WHERE logical_shard = $1")
        .bind(shard as i16)
        .execute(&mut *conn)
        .await
        .map(drop)
        .map_err(from_sqlx)
}

async fn count(conn: &mut PgConnection, table: &str, filter: &str) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE {filter}"))
        .fetch_one(conn)
        .await
        .map_err(from_sqlx)?;
    Ok(n as u64)
}

/// Rows of `shard` in `pool`'s database, per table (for tests and the move command's report).
pub async fn rows_of_shard(
    pool: &PgPool,
    shard: u16,
) -> Result<Vec<(&'static str, u64)>, StoreError> {
    let mut conn = pool.acquire().await.map_err(from_sqlx)?;
    let mut counts = Vec::new();
    for (table, column) in TABLES {
        counts.push((
            table,
            count(&mut conn, table, &of_shard(column, shard)).await?,
        ));
    }
    Ok(counts)
}
