//! Our own rollup job and retention on PostgreSQL and TimescaleDB Apache (continuous
//! aggregates and policies are Timescale-License features), and the licensed edition's calls
//! into TimescaleDB's own.
//!
//! Non-obvious: a rollup's row in `telemetry_rollup_state` is the lock that keeps rollups
//! exact. A refresh holds it `FOR UPDATE` while it aggregates up to the new watermark; an ingest
//! holds it `FOR SHARE` while it writes and recomputes the buckets behind the watermark it
//! read. So a refresh never aggregates a window while a batch that belongs to it is still
//! uncommitted, and a batch never mistakes a window being rolled up for one still read raw.

use chrono::{DateTime, Duration, Utc};

use super::PostgresStore;
use super::edition::Dialect;
use crate::domain::{BucketWidth, Measurement};
use crate::store::sql::{self, render};
use crate::store::{
    Edition, ROLLUPS, RefreshReport, RetentionCutoffs, RetentionReport, Rollup, StoreError,
    from_sqlx,
};

const FROM_RAW: &str =
    include_str!("../../../../../sql/telemetry/postgres/queries/rollup_from_raw.sql");
const FROM_ROLLUP: &str =
    include_str!("../../../../../sql/telemetry/postgres/queries/rollup_from_rollup.sql");

/// The largest slice of a backlog one refresh transaction covers.
const SLICE: Duration = Duration::days(1);

pub(super) fn floor(time: DateTime<Utc>, width_secs: i64) -> DateTime<Utc> {
    BucketWidth::seconds(width_secs)
        .map(|w| w.floor(time))
        .unwrap_or(time)
}

/// The SQL that recomputes `rollup`'s buckets of `measurement` in `[$1, $2)` (width `$3`
/// seconds) for every host, or for the hosts in `$4` when `some_hosts`.
pub fn recompute_sql(
    dialect: Dialect,
    measurement: Measurement,
    rollup: Rollup,
    some_hosts: bool,
) -> String {
    let metrics = measurement.metrics();
    let hosts = if some_hosts {
        "AND host_id = ANY($4)"
    } else {
        ""
    };
    let target = rollup.table(measurement);
    let columns = sql::rollup_partials(metrics);
    let updates = sql::rollup_updates(metrics);
    if rollup.width_secs == ROLLUPS[0].width_secs {
        render(
            FROM_RAW,
            &[
                ("rollup", target.as_str()),
                ("table", measurement.table()),
                ("hosts", hosts),
                ("bucket", dialect.bucket("time", 3).as_str()),
                ("rollup_columns", columns.as_str()),
                ("raw_partials", sql::raw_partials(metrics).as_str()),
                ("updates", updates.as_str()),
            ],
        )
    } else {
        render(
            FROM_ROLLUP,
            &[
                ("rollup", target.as_str()),
                ("source", ROLLUPS[0].table(measurement).as_str()),
                ("hosts", hosts),
                ("rollup_bucket", dialect.bucket("bucket", 3).as_str()),
                ("rollup_columns", columns.as_str()),
                ("rollup_folds", sql::rollup_folds(metrics).as_str()),
                ("updates", updates.as_str()),
            ],
        )
    }
}

pub(super) async fn refresh(
    store: &PostgresStore,
    up_to: DateTime<Utc>,
) -> Result<RefreshReport, StoreError> {
    if store.edition == Edition::TimescaleLicensed {
        return refresh_continuous_aggregates(store, up_to).await;
    }
    let mut report = RefreshReport::default();
    for &measurement in Measurement::ALL {
        // The 1-hour rollup reads the 1-minute one, so it may not pass that one's watermark.
        let mut limit = up_to;
        for rollup in ROLLUPS {
            let table = rollup.table(measurement);
            let target = floor(limit, rollup.width_secs);
            let sql = recompute_sql(store.dialect(), measurement, rollup, false);
            let mut at;
            loop {
                let mut tx = store.pool.begin().await.map_err(from_sqlx)?;
                let mark: Option<DateTime<Utc>> = sqlx::query_scalar(
                    "SELECT watermark FROM telemetry_rollup_state WHERE rollup = $1 FOR UPDATE",
                )
                .bind(&table)
                .fetch_one(&mut *tx)
                .await
                .map_err(from_sqlx)?;
                let start = match mark {
                    Some(mark) => mark,
                    None => {
                        let first: Option<DateTime<Utc>> = sqlx::query_scalar(&format!(
                            "SELECT min(time) FROM {}",
                            measurement.table()
                        ))
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(from_sqlx)?;
                        first.map_or(target, |f| floor(f, rollup.width_secs).min(target))
                    }
                };
                at = start;
                if start >= target {
                    // Without readings the mark stays unset: later readings are rolled up
                    // from their start, not recomputed as late ones.
                    tx.commit().await.map_err(from_sqlx)?;
                    break;
                }
                let end = (start + SLICE).min(target);
                report.rows += sqlx::query(&sql)
                    .bind(start)
                    .bind(end)
                    .bind(rollup.width_secs as f64)
                    .execute(&mut *tx)
                    .await
                    .map_err(from_sqlx)?
                    .rows_affected();
                set_mark(&mut tx, &table, end).await?;
                tx.commit().await.map_err(from_sqlx)?;
                at = end;
                if end >= target {
                    break;
                }
            }
            report.watermark = Some(report.watermark.map_or(at, |w: DateTime<Utc>| w.min(at)));
            limit = at;
        }
    }
    Ok(report)
}

async fn set_mark(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    table: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE telemetry_rollup_state SET watermark = $2 WHERE rollup = $1")
        .bind(table)
        .bind(at)
        .execute(&mut **tx)
        .await
        .map_err(from_sqlx)?;
    Ok(())
}

/// Timescale License: TimescaleDB materialises its continuous aggregates itself.
async fn refresh_continuous_aggregates(
    store: &PostgresStore,
    up_to: DateTime<Utc>,
) -> Result<RefreshReport, StoreError> {
    for &measurement in Measurement::ALL {
        for rollup in ROLLUPS {
            // CALL cannot run in a transaction block, so one statement on its own.
            let sql = format!(
                "CALL refresh_continuous_aggregate('{}', NULL, '{}'::timestamptz)",
                rollup.table(measurement),
                floor(up_to, rollup.width_secs).to_rfc3339()
            );
            sqlx::raw_sql(&sql)
                .execute(&store.pool)
                .await
                .map_err(from_sqlx)?;
        }
    }
    Ok(RefreshReport {
        rows: 0,
        watermark: Some(up_to),
    })
}

pub(super) async fn apply_retention(
    store: &PostgresStore,
    cutoffs: &RetentionCutoffs,
) -> Result<RetentionReport, StoreError> {
    let mut report = RetentionReport::default();
    let rollup_cutoffs = [
        (ROLLUPS[0], cutoffs.minute_rollup_before),
        (ROLLUPS[1], cutoffs.hour_rollup_before),
    ];
    if store.dialect().timescale() {
        for &measurement in Measurement::ALL {
            let mut targets = vec![(measurement.table().to_owned(), cutoffs.raw_before)];
            for (rollup, before) in rollup_cutoffs {
                targets.push((rollup.table(measurement), before));
            }
            for (table, before) in targets {
                let dropped: i64 = sqlx::query_scalar(&format!(
                    "SELECT count(*) FROM drop_chunks('{table}', older_than => $1::timestamptz)"
                ))
                .bind(before)
                .fetch_one(&store.pool)
                .await
                .map_err(from_sqlx)?;
                report.chunks_dropped += dropped as u64;
            }
        }
    } else {
        report.chunks_dropped += store
            .partitions
            .drop_before(&store.pool, cutoffs.raw_before)
            .await?;
        for &measurement in Measurement::ALL {
            for (rollup, before) in rollup_cutoffs {
                let sql = format!(
                    "DELETE FROM {} WHERE bucket < $1",
                    rollup.table(measurement)
                );
                report.rows_deleted += sqlx::query(&sql)
                    .bind(before)
                    .execute(&store.pool)
                    .await
                    .map_err(from_sqlx)?
                    .rows_affected();
            }
        }
    }
    Ok(report)
}
