//! A small bounded pool of tokio-postgres clients for the ingest path: sqlx has no
//! `COPY … FROM STDIN (FORMAT binary)`, tokio-postgres streams it.
//!
//! Non-obvious: each client keeps its session's temporary staging tables (one per measurement,
//! `ON COMMIT DELETE ROWS`), created once per connection, so a batch costs a COPY and an
//! `INSERT … SELECT … ON CONFLICT DO NOTHING`, never DDL.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{Client, NoTls};

use crate::store::StoreError;

/// How long a batch waits for a free ingest connection before it counts as `Unavailable`.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A client and the staging tables its session has created.
pub struct Staged {
    pub client: Client,
    pub staged: HashSet<&'static str>,
}

pub struct CopyPool {
    config: tokio_postgres::Config,
    idle: Mutex<Vec<Staged>>,
    permits: std::sync::Arc<Semaphore>,
    statement_timeout: Duration,
}

/// A client on loan; it goes back to the pool on drop unless its connection closed.
pub struct Lease<'a> {
    pool: &'a CopyPool,
    staged: Option<Staged>,
    _permit: OwnedSemaphorePermit,
}

impl std::ops::Deref for Lease<'_> {
    type Target = Staged;
    fn deref(&self) -> &Staged {
        self.staged
            .as_ref()
            .expect("a lease holds its client until dropped")
    }
}

impl std::ops::DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut Staged {
        self.staged
            .as_mut()
            .expect("a lease holds its client until dropped")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(staged) = self.staged.take()
            && !staged.client.is_closed()
        {
            self.pool
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(staged);
        }
    }
}

pub(crate) fn from_pg(err: tokio_postgres::Error) -> StoreError {
    let code = err.code().map(|c| c.code().to_owned());
    match code.as_deref() {
        Some("57014" | "57P01" | "57P02" | "57P03" | "40001" | "40P01") => {
            StoreError::Unavailable(err.to_string())
        }
        None if err.is_closed() || err.to_string().contains("connection") => {
            StoreError::Unavailable(err.to_string())
        }
        _ => StoreError::Other(format!(
            "{err}: {}",
            err.as_db_error().map(|e| e.message()).unwrap_or("")
        )),
    }
}

impl CopyPool {
    pub fn new(url: &str, max: u32, statement_timeout: Duration) -> Result<Self, StoreError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| StoreError::Other(e.to_string()))?;
        Ok(Self {
            config,
            idle: Mutex::new(Vec::new()),
            permits: std::sync::Arc::new(Semaphore::new(max as usize)),
            statement_timeout,
        })
    }

    /// A client, connecting a new one when none is idle; waits for a slot when all are out.
    pub async fn get(&self) -> Result<Lease<'_>, StoreError> {
        let permit = tokio::time::timeout(ACQUIRE_TIMEOUT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| StoreError::Unavailable("no free ingest connection".into()))?
            .map_err(|_| StoreError::Unavailable("ingest pool closed".into()))?;
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let staged = match idle {
            Some(staged) => staged,
            None => {
                let (client, connection) = self.config.connect(NoTls).await.map_err(from_pg)?;
                // The connection's I/O driver, as every tokio-postgres client needs; it ends
                // when the client is dropped.
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(error = %e, "ingest connection closed");
                    }
                });
                let timeout = format!(
                    "SET statement_timeout = {}",
                    self.statement_timeout.as_millis()
                );
                client.batch_execute(&timeout).await.map_err(from_pg)?;
                Staged {
                    client,
                    staged: HashSet::new(),
                }
            }
        };
        Ok(Lease {
            pool: self,
            staged: Some(staged),
            _permit: permit,
        })
    }
}
