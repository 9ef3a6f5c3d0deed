//! `shipOrder` and `markDelivered`: the paid order leaves the warehouse, then arrives.
//!
//! Non-obvious: the order is marked shipped (and its request `Shipping`) before the stock moves,
//! as cancelling marks before it releases: a crash in between leaves `Shipping`, which a retry
//! or the sweeper finishes, and the units stay counted as reserved meanwhile, so `available`
//! never goes up by mistake.

use super::crash_point;
use crate::domain::{Order, OrderStatus, StatusChange};
use crate::ids::OrderId;
use crate::store::{CommerceStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("no such order")]
    NotFound,
    /// The order is in a status the change cannot start from.
    #[error("the order is {}", .0.as_str())]
    Refused(OrderStatus),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Ships a paid order: its reserved units leave `on_hand` and `reserved`. Shipping it again
/// returns it unchanged (and finishes a shipment a crash left half done).
pub async fn ship_order(store: &dyn CommerceStore, order: OrderId) -> Result<Order, StatusError> {
    match store.mark_order_shipping(order).await? {
        StatusChange::Done(shipped) => {
            crash_point::reached(crash_point::AFTER_SHIP_MARK);
            finish(store, order).await?;
            Ok(shipped)
        }
        StatusChange::Refused(status) => Err(StatusError::Refused(status)),
        StatusChange::NotFound => Err(StatusError::NotFound),
    }
}

/// Steps 2 and 3, shared with the sweeper; both are no-ops once done.
pub(super) async fn finish(store: &dyn CommerceStore, order: OrderId) -> Result<(), StoreError> {
    store.ship_stock(order).await?;
    store.finish_shipping(order).await
}

/// A shipped order arrived. Delivering it again returns it unchanged.
pub async fn mark_delivered(
    store: &dyn CommerceStore,
    order: OrderId,
) -> Result<Order, StatusError> {
    match store.mark_order_delivered(order).await? {
        StatusChange::Done(delivered) => Ok(delivered),
        StatusChange::Refused(status) => Err(StatusError::Refused(status)),
        StatusChange::NotFound => Err(StatusError::NotFound),
    }
}
