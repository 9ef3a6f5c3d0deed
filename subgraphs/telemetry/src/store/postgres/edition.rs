//! Which edition a PostgreSQL server runs, detected when the store opens, and the SQL that
//! differs between editions.
//!
//! TimescaleDB when the extension is in the database (or can be created there: the server
//! preloads it), licensed when `timescaledb.license` says `timescale`; plain PostgreSQL
//! otherwise, or when the settings say `timescaledb = "off"`.

use sqlx::PgPool;

use crate::store::Edition;

/// Detects the edition, creating the extension when the server offers it and it is wanted.
pub async fn detect(pool: &PgPool, use_timescaledb: bool) -> anyhow::Result<Edition> {
    if !use_timescaledb {
        return Ok(Edition::Postgres);
    }
    let installed: Option<String> =
        sqlx::query_scalar("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
            .fetch_optional(pool)
            .await?;
    if installed.is_none() {
        let preloaded: bool = sqlx::query_scalar(
            "SELECT current_setting('shared_preload_libraries') ~ 'timescaledb'
                AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')",
        )
        .fetch_one(pool)
        .await?;
        if !preloaded {
            return Ok(Edition::Postgres);
        }
        sqlx::raw_sql("CREATE EXTENSION IF NOT EXISTS timescaledb")
            .execute(pool)
            .await?;
    }
    let license: Option<String> =
        sqlx::query_scalar("SELECT current_setting('timescaledb.license', true)")
            .fetch_one(pool)
            .await?;
    Ok(match license.as_deref() {
        Some("timescale") => Edition::TimescaleLicensed,
        _ => Edition::TimescaleApache,
    })
}

/// The SQL fragments that differ between editions.
#[derive(Debug, Clone, Copy)]
pub struct Dialect(pub Edition);

impl Dialect {
    pub fn timescale(self) -> bool {
        matches!(
            self.0,
            Edition::TimescaleApache | Edition::TimescaleLicensed
        )
    }

    /// The start of `column`'s bucket whose width in seconds is parameter `$param`:
    /// `time_bucket` on TimescaleDB (chunk-aware, and what its planner optimises), `date_bin`
    /// on PostgreSQL. Widths divide a day, so both origins give the same buckets.
    pub fn bucket(self, column: &str, param: u8) -> String {
        if self.timescale() {
            format!("time_bucket(make_interval(secs => ${param}), {column})")
        } else {
            format!(
                "date_bin(make_interval(secs => ${param}), {column}, TIMESTAMPTZ '2000-01-01 00:00:00+00')"
            )
        }
    }

    /// Where a rollup stops being complete: our watermark, or nowhere for a real-time
    /// continuous aggregate (Timescale License), which answers the whole window itself.
    pub fn mark(self, rollup: &str) -> String {
        if self.0 == Edition::TimescaleLicensed {
            "'infinity'::timestamptz".to_owned()
        } else {
            format!(
                "coalesce((SELECT watermark FROM telemetry_rollup_state WHERE rollup = '{rollup}'), \
                 '-infinity'::timestamptz)"
            )
        }
    }
}
