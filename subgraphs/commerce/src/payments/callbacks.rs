//! The provider's callbacks (webhooks): news about a payment that may come before the call's own
//! answer, after it, instead of it (the answer was lost), or twice.
//!
//! Non-obvious: a callback is just another way to bring a [`PaymentEvent`]; applying it is the
//! same idempotent transition the synchronous path applies, so a duplicate changes nothing and a
//! refund it reports gives the stock back exactly as `refundOrder` would.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::domain::PaymentEvent;
use crate::ids::PaymentId;
use crate::orders::finish_release;
use crate::store::{CommerceStore, StoreError};

/// One callback: what happened to which of our payments (providers echo the idempotency key,
/// our payment id, in their events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    pub payment: PaymentId,
    pub event: PaymentEvent,
}

/// Applies a callback once; a duplicate or a stale one changes nothing.
pub async fn apply_event(
    store: &dyn CommerceStore,
    news: &ProviderEvent,
) -> Result<(), StoreError> {
    let (payment, release) = super::record(store, news.payment, &news.event).await?;
    if release {
        finish_release(store, payment.order).await?;
    }
    Ok(())
}

/// Applies callbacks as they arrive until the provider goes away. A callback that fails is
/// logged; the provider delivers it again (and the sweeper finishes any release it started).
pub async fn run_callbacks(
    store: Arc<dyn CommerceStore>,
    mut events: mpsc::UnboundedReceiver<ProviderEvent>,
) {
    while let Some(news) = events.recv().await {
        if let Err(e) = apply_event(store.as_ref(), &news).await {
            tracing::warn!(payment = %news.payment, error = %e, "payment callback not applied");
        }
    }
}
