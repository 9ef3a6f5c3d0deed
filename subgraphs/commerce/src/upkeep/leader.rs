//! Leader election through a PostgreSQL advisory lock on the catalog database: the process whose
//! dedicated connection holds `pg_try_advisory_lock(hashtext('commerce_upkeep_leader'))` leads.
//!
//! Non-obvious: the lock is a session lock, so it lives exactly as long as that one connection:
//! a leader that crashes, hangs up or loses the network releases it without anyone's help, and
//! leadership is rechecked (`SELECT 1` on the connection) before every pass, so a leader never
//! runs a pass after losing it. That connection must reach PostgreSQL itself (or a PgBouncer
//! pool in session mode): behind transaction pooling a session lock would stay on whichever
//! server connection ran it.

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _, PgConnection};

const TRY_LEAD: &str = "SELECT pg_try_advisory_lock(hashtext('commerce_upkeep_leader'))";

/// One process's claim to lead.
pub struct Leader {
    options: PgConnectOptions,
    held: Option<PgConnection>,
}

impl Leader {
    /// Competes for leadership on the database `options` reach (the catalog primary).
    pub fn new(options: PgConnectOptions) -> Self {
        Self {
            options,
            held: None,
        }
    }

    /// Whether this process leads now: keeps the lock if its connection is alive, else tries to
    /// take it. An unreachable database means not leading (and no error: the next tick retries).
    pub async fn lead(&mut self) -> bool {
        if let Some(conn) = &mut self.held {
            if conn.ping().await.is_ok() {
                return true;
            }
            tracing::warn!("upkeep: lost the leader's connection; competing again");
            self.held = None;
        }
        let Ok(mut conn) = self.options.connect().await else {
            return false;
        };
        match sqlx::query_scalar::<_, bool>(TRY_LEAD)
            .fetch_one(&mut conn)
            .await
        {
            Ok(true) => {
                tracing::info!("upkeep: this process leads the store's upkeep");
                self.held = Some(conn);
                true
            }
            _ => {
                let _ = conn.close().await;
                false
            }
        }
    }

    /// Gives leadership up (closing the connection releases the lock).
    pub async fn resign(&mut self) {
        if let Some(conn) = self.held.take() {
            let _ = conn.close().await;
        }
    }
}
