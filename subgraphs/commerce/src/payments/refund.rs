//! `refundOrder` (staff): the captured payment goes back to the buyer, the order becomes
//! refunded, and if it had not shipped its stock is released.
//!
//! Non-obvious: the provider is asked first and our rows change after, because money that went
//! back must never be recorded as kept. If the answer is lost, nothing here changed; a retry asks
//! again (the provider answers `AlreadyRefunded`) or the provider's callback records it.

use std::time::Duration;

use super::provider::{PaymentProvider, Refund, bounded};
use crate::domain::{Order, OrderStatus, PaymentEvent, PaymentStatus};
use crate::ids::{OrderId, UserId};
use crate::orders::finish_release;
use crate::store::{CommerceStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("no such order")]
    NotFound,
    /// Nothing was taken (pending, cancelled) so nothing can go back.
    #[error("the order is {} and has no captured payment", .0.as_str())]
    NotRefundable(OrderStatus),
    #[error("{0}")]
    ProviderUnavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Refunds `order`'s captured payment; refunding a refunded order returns it unchanged.
pub async fn refund_order(
    store: &dyn CommerceStore,
    provider: &dyn PaymentProvider,
    order: OrderId,
    reader: Option<UserId>,
    limit: Duration,
) -> Result<Order, RefundError> {
    let found = store.orders_by_ids(&[order], reader).await?.pop();
    let Some(found) = found else {
        return Err(RefundError::NotFound);
    };
    if found.status == OrderStatus::Refunded {
        return Ok(found);
    }
    let payments = store.payments_of(&[order], reader).await?;
    let captured = payments
        .into_iter()
        .find(|p| p.status == PaymentStatus::Captured);
    let (true, Some(payment)) = (found.status.refundable(), captured) else {
        return Err(RefundError::NotRefundable(found.status));
    };
    let reference = payment
        .provider_ref
        .clone()
        .ok_or_else(|| StoreError::Other(format!("payment {} has no reference", payment.id)))?;
    match bounded(limit, provider.refund(payment.id, &reference)).await {
        Ok(Refund::Refunded | Refund::AlreadyRefunded) => {}
        Ok(Refund::NotCaptured) => {
            return Err(StoreError::Other(format!(
                "the provider has no capture for payment {} that we recorded as captured",
                payment.id
            ))
            .into());
        }
        Err(e) => return Err(RefundError::ProviderUnavailable(e.to_string())),
    }
    let (_, release) = super::record(store, payment.id, &PaymentEvent::Refunded).await?;
    if release {
        finish_release(store, order).await?;
    }
    store
        .orders_by_ids(&[order], reader)
        .await?
        .pop()
        .ok_or(RefundError::NotFound)
}
