//! Daily range partitions of the raw readings tables on plain PostgreSQL (TimescaleDB makes its
//! chunks itself): made before a batch writes into a day, counted for `/metrics`, and dropped
//! whole by retention.
//!
//! Non-obvious: no DEFAULT partition. A row for a day without a partition would land there, and
//! every partition created later must then scan it; instead the adapter creates the day's
//! partitions before it writes (remembering which exist, so that costs one check per new day),
//! and retention refuses readings so old that their day was dropped.

use std::collections::HashSet;
use std::sync::Mutex;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::PgPool;

use crate::domain::Measurement;
use crate::store::{StoreError, from_sqlx};

/// Serialises partition DDL between processes ("tel_part").
const LOCK_KEY: i64 = 0x7465_6c5f_7061_7274;

/// The partitions known to exist, by day (all measurements of a day are made together).
#[derive(Default)]
pub struct Partitions {
    known: Mutex<HashSet<NaiveDate>>,
}

/// `cpu_p20240301`.
pub fn partition_name(measurement: Measurement, day: NaiveDate) -> String {
    format!("{}_p{}", measurement.table(), day.format("%Y%m%d"))
}

/// The day a partition holds, from its name.
fn partition_day(name: &str) -> Option<NaiveDate> {
    let (_, day) = name.rsplit_once("_p")?;
    NaiveDate::parse_from_str(day, "%Y%m%d").ok()
}

impl Partitions {
    /// Makes the partitions of every day from `first` to `last` that do not exist yet.
    pub async fn ensure(
        &self,
        pool: &PgPool,
        first: DateTime<Utc>,
        last: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut missing = Vec::new();
        {
            let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            let mut day = first.date_naive();
            while day <= last.date_naive() && missing.len() < 400 {
                if !known.contains(&day) {
                    missing.push(day);
                }
                day += Duration::days(1);
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let mut tx = pool.begin().await.map_err(from_sqlx)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LOCK_KEY)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        for &day in &missing {
            let next = day + Duration::days(1);
            for &measurement in Measurement::ALL {
                let sql = format!(
                    "CREATE TABLE IF NOT EXISTS {} PARTITION OF {} \
                     FOR VALUES FROM ('{day} 00:00:00+00') TO ('{next} 00:00:00+00')",
                    partition_name(measurement, day),
                    measurement.table(),
                );
                sqlx::Executor::execute(&mut *tx, sql.as_str())
                    .await
                    .map_err(from_sqlx)?;
            }
        }
        tx.commit().await.map_err(from_sqlx)?;
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(missing);
        Ok(())
    }

    /// Drops every partition whose whole day lies before `before`; returns how many.
    pub async fn drop_before(
        &self,
        pool: &PgPool,
        before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut dropped = 0;
        for &measurement in Measurement::ALL {
            for name in partitions(pool, measurement.table()).await? {
                let Some(day) = partition_day(&name) else {
                    continue;
                };
                let end = (day + Duration::days(1))
                    .and_hms_opt(0, 0, 0)
                    .map(|t| t.and_utc());
                if end.is_some_and(|end| end <= before) {
                    sqlx::raw_sql(&format!("DROP TABLE IF EXISTS {name}"))
                        .execute(pool)
                        .await
                        .map_err(from_sqlx)?;
                    self.known
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&day);
                    dropped += 1;
                }
            }
        }
        Ok(dropped)
    }
}

/// The partitions of `table`, by name.
pub async fn partitions(pool: &PgPool, table: &str) -> Result<Vec<String>, StoreError> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
         WHERE p.relname = $1 AND p.relnamespace = current_schema()::regnamespace
         ORDER BY 1",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_name_carries_its_day() {
        let day = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        let name = partition_name(Measurement::Disk, day);
        assert_eq!(name, "disk_p20240301");
        assert_eq!(partition_day(&name), Some(day));
        assert_eq!(partition_day("cpu"), None);
    }
}
