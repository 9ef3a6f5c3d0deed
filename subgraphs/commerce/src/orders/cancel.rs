//! `cancelOrder`: mark the order cancelled on the buyer's shard, then give its stock back.
//!
//! Non-obvious: the order is marked first and the stock released second. The other order would
//! sell the same units twice if the process died in between; this one only holds them a little
//! longer, until a retry or the sweeper releases them (the request says `Releasing`).

use super::crash_point;
use crate::domain::{CancelOutcome, Order, OrderStatus};
use crate::ids::OrderId;
use crate::store::{CommerceStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("no such order")]
    NotFound,
    #[error("an order that is {} cannot be cancelled", .0.as_str())]
    NotCancellable(OrderStatus),
    #[error("a payment of the order is under way")]
    PaymentInProgress,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Cancels the order and releases its stock; cancelling it again returns it unchanged. The
/// caller checks that the viewer may cancel it.
pub async fn cancel_order(store: &dyn CommerceStore, order: OrderId) -> Result<Order, CancelError> {
    match store.mark_order_cancelled(order).await? {
        CancelOutcome::Cancelled(cancelled) => {
            crash_point::reached(crash_point::AFTER_CANCEL_MARK);
            finish(store, order).await?;
            Ok(cancelled)
        }
        CancelOutcome::NotCancellable(status) => Err(CancelError::NotCancellable(status)),
        CancelOutcome::PaymentInProgress => Err(CancelError::PaymentInProgress),
        CancelOutcome::NotFound => Err(CancelError::NotFound),
    }
}

/// Steps 2 and 3, shared with the sweeper and with refunds of orders that had not shipped.
pub async fn finish(store: &dyn CommerceStore, order: OrderId) -> Result<(), StoreError> {
    store.release_stock(order).await?;
    store.finish_cancellation(order).await
}
