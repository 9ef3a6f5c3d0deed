//! The sweeper: finishes order requests a crashed process left `Reserving`, `Releasing` or
//! `Shipping`.
//!
//! Non-obvious: a request only counts as abandoned once it is older than a grace period far
//! longer than a request takes, so the sweeper rarely races a live call; when it does, both
//! run the same idempotent steps and the store's row locks make one of them a no-op.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::{cancel, place, ship};
use crate::domain::RequestState;
use crate::store::{CommerceStore, StoreError};

/// Requests per sweep; the rest wait for the next one.
const BATCH: u32 = 100;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Unfinished placings that are now placed orders.
    pub placed: usize,
    /// Unfinished placings refused now (stock ran out meanwhile).
    pub rejected: usize,
    /// Unfinished cancellations (and refunds before shipping) whose stock is now released.
    pub released: usize,
    /// Unfinished shipments whose stock has now left.
    pub shipped: usize,
}

/// Finishes every request unfinished for longer than `grace`.
pub async fn sweep(store: &dyn CommerceStore, grace: Duration) -> Result<SweepReport, StoreError> {
    let cutoff = Utc::now() - chrono::Duration::from_std(grace).unwrap_or_default();
    let mut report = SweepReport::default();
    for request in store.unfinished_order_requests(cutoff, BATCH).await? {
        match request.state {
            RequestState::Reserving => match place::resume(store, &request).await {
                Ok(_) => report.placed += 1,
                Err(place::ResumeError::Store(e)) => return Err(e),
                Err(_) => report.rejected += 1,
            },
            RequestState::Releasing => {
                cancel::finish(store, request.order_id).await?;
                report.released += 1;
            }
            RequestState::Shipping => {
                ship::finish(store, request.order_id).await?;
                report.shipped += 1;
            }
            RequestState::Placed
            | RequestState::Rejected
            | RequestState::Cancelled
            | RequestState::Shipped => {}
        }
    }
    Ok(report)
}

/// Sweeps every `every`, finishing requests older than `every` (the grace period); never ends.
pub async fn run_sweeper(store: Arc<dyn CommerceStore>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        match sweep(store.as_ref(), every).await {
            Ok(r) if r == SweepReport::default() => {}
            Ok(r) => tracing::info!(
                placed = r.placed,
                rejected = r.rejected,
                released = r.released,
                shipped = r.shipped,
                "order sweeper finished abandoned requests"
            ),
            Err(e) => tracing::warn!(error = %e, "order sweep failed; retrying next tick"),
        }
    }
}
