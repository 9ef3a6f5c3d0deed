//! Our own rollup job and retention on SQLite (no continuous aggregates, no chunks).
//!
//! A rollup is brought forward one day at a time from its watermark (each day its own
//! transaction, so a long backlog never holds the write lock for long), the 1-minute rollup from
//! raw readings and the 1-hour rollup from the 1-minute one. Readings that arrive behind a
//! watermark recompute their buckets in the ingest's own transaction ([`recompute_late`]), so a
//! rollup never answers without them.

use chrono::{DateTime, Duration, Utc};
use sqlx::{Sqlite, Transaction};

use super::{SqliteStore, from_ms, json_array, ms};
use crate::domain::{BucketWidth, HostId, Measurement};
use crate::store::sql::{self, render};
use crate::store::{
    ROLLUPS, RefreshReport, RetentionCutoffs, RetentionReport, Rollup, StoreError, from_sqlx,
};

const FROM_RAW: &str =
    include_str!("../../../../../sql/telemetry/sqlite/queries/rollup_from_raw.sql");
const FROM_ROLLUP: &str =
    include_str!("../../../../../sql/telemetry/sqlite/queries/rollup_from_rollup.sql");

/// The largest slice of a backlog one refresh transaction covers: an hour of the demo fleet is
/// about 0.2 s of write lock, so a backlog never stalls a writer near its 5 s busy timeout.
const SLICE: Duration = Duration::hours(1);

fn floor(time: DateTime<Utc>, width_secs: i64) -> DateTime<Utc> {
    BucketWidth::seconds(width_secs)
        .map(|w| w.floor(time))
        .unwrap_or(time)
}

async fn watermark(
    tx: &mut Transaction<'static, Sqlite>,
    table: &str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let mark: Option<Option<i64>> =
        sqlx::query_scalar("SELECT watermark FROM telemetry_rollup_state WHERE rollup = ?")
            .bind(table)
            .fetch_optional(&mut **tx)
            .await
            .map_err(from_sqlx)?;
    mark.flatten().map(from_ms).transpose()
}

async fn set_watermark(
    tx: &mut Transaction<'static, Sqlite>,
    table: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO telemetry_rollup_state (rollup, watermark) VALUES (?, ?)
         ON CONFLICT (rollup) DO UPDATE SET watermark = excluded.watermark",
    )
    .bind(table)
    .bind(ms(at))
    .execute(&mut **tx)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

/// Recomputes `rollup`'s buckets in `[from, to)` for `hosts` (every host when `None`); returns
/// the rows written. The 1-minute rollup reads raw readings, the 1-hour one the 1-minute rollup.
async fn recompute(
    tx: &mut Transaction<'static, Sqlite>,
    measurement: Measurement,
    rollup: Rollup,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    hosts: Option<&[HostId]>,
) -> Result<u64, StoreError> {
    let metrics = measurement.metrics();
    let filter = match hosts {
        None => "host_id IN (SELECT id FROM hosts)",
        Some(_) => "host_id IN (SELECT value FROM json_each(?4))",
    };
    let target = rollup.table(measurement);
    let columns = sql::rollup_partials(metrics);
    let query = if rollup.width_secs == ROLLUPS[0].width_secs {
        render(
            FROM_RAW,
            &[
                ("rollup", target.as_str()),
                ("table", measurement.table()),
                ("hosts", filter),
                ("rollup_columns", columns.as_str()),
                ("raw_partials", sql::raw_partials(metrics).as_str()),
            ],
        )
    } else {
        render(
            FROM_ROLLUP,
            &[
                ("rollup", target.as_str()),
                ("source", ROLLUPS[0].table(measurement).as_str()),
                ("hosts", filter),
                ("rollup_columns", columns.as_str()),
                ("rollup_folds", sql::rollup_folds(metrics).as_str()),
            ],
        )
    };
    let hosts = hosts
        .map(|h| json_array(h.iter().map(|i| i.get())))
        .transpose()?;
    let written = sqlx::query(&query)
        .bind(ms(from))
        .bind(ms(to))
        .bind(rollup.width_secs * 1000)
        .bind(hosts)
        .execute(&mut **tx)
        .await
        .map_err(from_sqlx)?
        .rows_affected();
    Ok(written)
}

/// Brings the rollups of `measurement` up to date for readings in `[first, last]` of `hosts`
/// that landed behind a watermark; runs inside the ingest's transaction.
pub(super) async fn recompute_late(
    tx: &mut Transaction<'static, Sqlite>,
    measurement: Measurement,
    hosts: &[HostId],
    first: DateTime<Utc>,
    last: DateTime<Utc>,
) -> Result<(), StoreError> {
    for rollup in ROLLUPS {
        let Some(mark) = watermark(tx, &rollup.table(measurement)).await? else {
            continue;
        };
        if first >= mark {
            continue;
        }
        let from = floor(first, rollup.width_secs);
        let to = (floor(last, rollup.width_secs) + Duration::seconds(rollup.width_secs)).min(mark);
        recompute(tx, measurement, rollup, from, to, Some(hosts)).await?;
    }
    Ok(())
}

/// The earliest raw reading of `measurement`, probing the primary key host by host.
async fn earliest(
    store: &SqliteStore,
    measurement: Measurement,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let table = measurement.table();
    let sql =
        format!("SELECT min((SELECT min(time) FROM {table} WHERE host_id = h.id)) FROM hosts h");
    let first: Option<i64> = sqlx::query_scalar(&sql)
        .fetch_one(&store.pool)
        .await
        .map_err(from_sqlx)?;
    first.map(from_ms).transpose()
}

pub(super) async fn refresh(
    store: &SqliteStore,
    up_to: DateTime<Utc>,
) -> Result<RefreshReport, StoreError> {
    let mut report = RefreshReport::default();
    for &measurement in Measurement::ALL {
        // The 1-hour rollup reads the 1-minute one, so it may not pass that one's watermark.
        let mut limit = up_to;
        for rollup in ROLLUPS {
            let table = rollup.table(measurement);
            let target = floor(limit, rollup.width_secs);
            let mut tx = store.write().await?;
            let mark = watermark(&mut tx, &table).await?;
            tx.commit().await.map_err(from_sqlx)?;
            // Without a mark and without readings there is nothing to roll up: the mark stays
            // unset, so readings that arrive later are rolled up from their start, not as late.
            let start = match mark {
                Some(mark) => mark,
                None => match earliest(store, measurement).await? {
                    Some(first) => floor(first, rollup.width_secs).min(target),
                    None => target,
                },
            };
            let mut at = start;
            while at < target {
                let end = (at + SLICE).min(target);
                let mut tx = store.write().await?;
                report.rows += recompute(&mut tx, measurement, rollup, at, end, None).await?;
                set_watermark(&mut tx, &table, end).await?;
                tx.commit().await.map_err(from_sqlx)?;
                at = end;
            }
            report.watermark = Some(report.watermark.map_or(at, |w: DateTime<Utc>| w.min(at)));
            limit = at;
        }
    }
    Ok(report)
}

pub(super) async fn apply_retention(
    store: &SqliteStore,
    cutoffs: &RetentionCutoffs,
) -> Result<RetentionReport, StoreError> {
    let mut report = RetentionReport::default();
    let mut tx = store.write().await?;
    for &measurement in Measurement::ALL {
        let targets = [
            (measurement.table().to_owned(), "time", cutoffs.raw_before),
            (
                ROLLUPS[0].table(measurement),
                "bucket",
                cutoffs.minute_rollup_before,
            ),
            (
                ROLLUPS[1].table(measurement),
                "bucket",
                cutoffs.hour_rollup_before,
            ),
        ];
        for (table, column, before) in targets {
            let sql = format!(
                "DELETE FROM {table} WHERE host_id IN (SELECT id FROM hosts) AND {column} < ?"
            );
            report.rows_deleted += sqlx::query(&sql)
                .bind(ms(before))
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?
                .rows_affected();
        }
    }
    tx.commit().await.map_err(from_sqlx)?;
    Ok(report)
}
