//! `payOrder`: record the attempt, authorise, capture; the order is paid when the capture is
//! recorded.
//!
//! Non-obvious: the attempt is recorded *before* the provider is asked, under the client's
//! idempotency key, and its id is the provider's idempotency key. So a retry after any failure
//! (a lost answer, a crash) finds the same attempt, asks the provider again with the same id,
//! gets the first answer, and continues from wherever the payment row stands.

use std::time::Duration;

use super::provider::{Authorization, PaymentProvider, bounded};
use crate::domain::{
    IdempotencyKey, Money, NewPayment, OpenPayment, Order, OrderStatus, PaymentEvent,
    PaymentMethod, PaymentStatus,
};
use crate::ids::{OrderId, UserId};
use crate::store::{CommerceStore, StoreError};

/// A validated `payOrder` call.
#[derive(Debug, Clone)]
pub struct PayOrder {
    pub order: OrderId,
    pub key: IdempotencyKey,
    pub method: PaymentMethod,
    /// Who reads the order back (the buyer): read-your-writes.
    pub reader: Option<UserId>,
}

#[derive(Debug, thiserror::Error)]
pub enum PayError {
    #[error("no such order")]
    NotFound,
    #[error("the order is {} and cannot be paid", .0.as_str())]
    NotPayable(OrderStatus),
    #[error("another payment of the order is under way")]
    InProgress,
    #[error("the order's total is zero")]
    NothingToPay,
    /// The provider refused; the order is unchanged and may be paid with another method.
    #[error("the payment was declined: {0}")]
    Declined(String),
    /// The provider's answer is unknown; retrying with the same key is safe.
    #[error("{0}")]
    ProviderUnavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Pays `call.order` once per key: a retry returns the paid order, or continues a payment a lost
/// answer left behind, and never charges twice.
pub async fn pay_order(
    store: &dyn CommerceStore,
    provider: &dyn PaymentProvider,
    call: PayOrder,
    limit: Duration,
) -> Result<Order, PayError> {
    let new = NewPayment::new(call.order, call.key, provider.name());
    let mut payment = match store.open_payment(&new).await? {
        OpenPayment::Ready(payment) => payment,
        OpenPayment::NotPayable(status) => return Err(PayError::NotPayable(status)),
        OpenPayment::InProgress(_) => return Err(PayError::InProgress),
        OpenPayment::NothingToPay => return Err(PayError::NothingToPay),
        OpenPayment::NotFound => return Err(PayError::NotFound),
    };
    let unknown = |e: super::ProviderError| PayError::ProviderUnavailable(e.to_string());
    if payment.status == PaymentStatus::Pending {
        let amount = Money::new(payment.amount_minor, payment.currency.clone())
            .map_err(|e| StoreError::Other(format!("payment {}: {e}", payment.id)))?;
        let event = match bounded(limit, provider.authorize(payment.id, &amount, &call.method))
            .await
            .map_err(unknown)?
        {
            Authorization::Approved(reference) => PaymentEvent::Authorized(reference),
            Authorization::Declined(reason) => PaymentEvent::Declined(reason),
        };
        payment = super::record(store, payment.id, &event).await?.0;
    }
    if payment.status == PaymentStatus::Authorized {
        let reference = payment
            .provider_ref
            .clone()
            .ok_or_else(|| StoreError::Other(format!("payment {} has no reference", payment.id)))?;
        bounded(limit, provider.capture(payment.id, &reference))
            .await
            .map_err(unknown)?;
        payment = super::record(store, payment.id, &PaymentEvent::Captured)
            .await?
            .0;
    }
    match payment.status {
        PaymentStatus::Failed => Err(PayError::Declined(
            payment.failure.unwrap_or_else(|| "declined".to_owned()),
        )),
        PaymentStatus::Pending | PaymentStatus::Authorized => {
            Err(PayError::ProviderUnavailable(format!(
                "payment {} is still {}",
                payment.id,
                payment.status.as_str()
            )))
        }
        PaymentStatus::Captured | PaymentStatus::Refunded => store
            .orders_by_ids(&[call.order], call.reader)
            .await?
            .pop()
            .ok_or(PayError::NotFound),
    }
}
