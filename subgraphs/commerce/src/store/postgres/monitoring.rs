//! Database health on `/metrics`: replica lag and slow statements (from `pg_stat_statements`).
//!
//! Non-obvious: lag is measured in bytes of WAL (primary's insert LSN minus the replica's replay
//! LSN) as well as in seconds (`pg_stat_replication.replay_lag`), because the time-based figure
//! is null on an idle primary and the byte figure says nothing about how long replay will take.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use prometheus::{GaugeVec, IntGaugeVec, register_gauge_vec, register_int_gauge_vec};

use super::PostgresStore;

/// Statements slower than this on average count as slow.
pub const SLOW_MEAN_MS: f64 = 100.0;

static REPLICA_LAG_BYTES: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "polygate_commerce_replica_lag_bytes",
        "WAL bytes the replica has not replayed yet (-1: replica unreachable)",
        &["database"]
    )
    .expect("metric registers once")
});

static REPLICA_LAG_SECONDS: LazyLock<GaugeVec> = LazyLock::new(|| {
    register_gauge_vec!(
        "polygate_commerce_replica_replay_lag_seconds",
        "Longest replay lag among the primary's streaming replicas (0 when idle)",
        &["database"]
    )
    .expect("metric registers once")
});

static SLOW_STATEMENTS: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "polygate_commerce_slow_statements",
        "Statements in pg_stat_statements whose mean execution time exceeds 100 ms",
        &["database"]
    )
    .expect("metric registers once")
});

static SLOWEST_MEAN_SECONDS: LazyLock<GaugeVec> = LazyLock::new(|| {
    register_gauge_vec!(
        "polygate_commerce_slowest_statement_mean_seconds",
        "Mean execution time of the slowest statement in pg_stat_statements",
        &["database"]
    )
    .expect("metric registers once")
});

/// Samples every database once.
pub async fn sample(store: &PostgresStore) {
    for db in &store.databases {
        let name = db.name.as_str();
        if let Some(replica) = &db.replica {
            let replayed: Result<Option<String>, _> =
                sqlx::query_scalar("SELECT pg_last_wal_replay_lsn()::TEXT")
                    .fetch_one(replica)
                    .await;
            let lag: Option<i64> = match replayed {
                Ok(Some(lsn)) => sqlx::query_scalar(
                    "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::BIGINT",
                )
                .bind(lsn)
                .fetch_one(&db.primary)
                .await
                .ok(),
                _ => None,
            };
            REPLICA_LAG_BYTES
                .with_label_values(&[name])
                .set(lag.unwrap_or(-1).max(-1));
            let seconds: Option<f64> = sqlx::query_scalar(
                "SELECT COALESCE(EXTRACT(EPOCH FROM max(replay_lag)), 0)::FLOAT8
                 FROM pg_stat_replication",
            )
            .fetch_one(&db.primary)
            .await
            .ok();
            if let Some(seconds) = seconds {
                REPLICA_LAG_SECONDS.with_label_values(&[name]).set(seconds);
            }
        }
        let slow: Result<(i64, f64), _> = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE mean_exec_time > $1),
                    COALESCE(max(mean_exec_time), 0) / 1000.0
             FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database
                                                   WHERE datname = current_database())",
        )
        .bind(SLOW_MEAN_MS)
        .fetch_one(&db.primary)
        .await;
        match slow {
            Ok((count, slowest)) => {
                SLOW_STATEMENTS.with_label_values(&[name]).set(count);
                SLOWEST_MEAN_SECONDS.with_label_values(&[name]).set(slowest);
            }
            Err(e) => {
                tracing::debug!(database = name, error = %e, "pg_stat_statements unavailable")
            }
        }
    }
}

/// Enables `pg_stat_statements` where the server preloads it (best effort: it needs the
/// library in `shared_preload_libraries` and a role allowed to create the extension).
pub async fn enable_statement_stats(store: &PostgresStore) {
    for db in &store.databases {
        if let Err(e) = sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .execute(&db.primary)
            .await
        {
            tracing::warn!(database = %db.name, error = %e, "cannot enable pg_stat_statements; slow-statement metrics are off");
        }
    }
}

/// Samples every `every` until the process ends.
pub async fn run_monitor(store: Arc<PostgresStore>, every: Duration) {
    enable_statement_stats(&store).await;
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        sample(&store).await;
    }
}
