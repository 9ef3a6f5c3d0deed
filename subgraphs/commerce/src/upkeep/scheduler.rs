//! The scheduler: a loop that, every interval, runs a pass if this process leads.
//!
//! Non-obvious: the clock it passes to the pass is the one it was given, and a test drives
//! [`Scheduler::tick`] with any instant it likes (four months ahead, say) instead of waiting.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;

use super::leader::Leader;
use super::pass::{PassReport, UpkeepSettings, run_pass};
use super::{Clock, metrics};
use crate::maintenance::PASS_TIMEOUT;
use crate::store::{CommerceStore, PostgresStore};

/// What one tick did.
#[derive(Debug)]
pub enum Tick {
    /// This process leads and ran the pass.
    Led(PassReport),
    /// Another process leads; nothing was done.
    Followed,
}

/// The upkeep of one store, in one process.
pub struct Scheduler {
    store: Arc<dyn CommerceStore>,
    postgres: Option<Arc<PostgresStore>>,
    settings: UpkeepSettings,
    /// `None` for an embedded store: its one process always leads.
    leader: Option<Mutex<Leader>>,
}

impl Scheduler {
    pub fn new(
        store: Arc<dyn CommerceStore>,
        postgres: Option<Arc<PostgresStore>>,
        settings: UpkeepSettings,
    ) -> Self {
        let leader = postgres
            .as_ref()
            .map(|router| Mutex::new(Leader::new((*router.pool().connect_options()).clone())));
        Self {
            store,
            postgres,
            settings,
            leader,
        }
    }

    /// Runs a pass as of `as_of` if this process leads.
    pub async fn tick(&self, as_of: DateTime<Utc>) -> anyhow::Result<Tick> {
        if let Some(leader) = &self.leader {
            let leads = leader.lock().await.lead().await;
            metrics::LEADER.set(i64::from(leads));
            if !leads {
                return Ok(Tick::Followed);
            }
        }
        let pass = run_pass(
            self.store.as_ref(),
            self.postgres.as_deref(),
            &self.settings,
            as_of,
        );
        let report = tokio::time::timeout(PASS_TIMEOUT, pass)
            .await
            .map_err(|_| anyhow::anyhow!("the upkeep pass took longer than {PASS_TIMEOUT:?}"))??;
        Ok(Tick::Led(report))
    }

    /// Gives leadership up, so another process takes over on its next tick.
    pub async fn resign(&self) {
        if let Some(leader) = &self.leader {
            leader.lock().await.resign().await;
            metrics::LEADER.set(0);
        }
    }

    /// Ticks every `settings.every` with `clock`'s time, for ever.
    pub async fn run(self, clock: Arc<dyn Clock>) {
        let mut ticks = tokio::time::interval(self.settings.every);
        loop {
            ticks.tick().await;
            match self.tick(clock.now()).await {
                Ok(Tick::Followed) => {}
                Ok(Tick::Led(report)) if report.ok() => {
                    metrics::PASSES.with_label_values(&["ok"]).inc();
                    metrics::LAST_SUCCESS.set(Utc::now().timestamp());
                    tracing::info!(archived = ?report.archived, drift_rows = report.drift_rows,
                        "upkeep pass finished");
                }
                Ok(Tick::Led(report)) => {
                    metrics::PASSES.with_label_values(&["error"]).inc();
                    tracing::warn!(partitions = ?report.partitions, "upkeep pass failed in part");
                }
                Err(e) => {
                    metrics::PASSES.with_label_values(&["error"]).inc();
                    tracing::warn!(error = %e, "upkeep pass failed; retrying next tick");
                }
            }
        }
    }
}
