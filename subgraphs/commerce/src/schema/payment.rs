//! The `Payment` type (an order's payment attempts) and the batch loader behind
//! `Order.payments`: a page of orders costs one `payments_of` call, not one per order.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Enum, ID, Object};
use chrono::SecondsFormat;

use super::ReadKey;
use super::by_reader;
use super::money::MoneyNode;
use crate::domain::{Payment, PaymentStatus};
use crate::ids::OrderId;
use crate::store::{CommerceStore, StoreError};

/// Where a payment attempt stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "PaymentStatus")]
pub enum PaymentStatusNode {
    /// Recorded; the provider's answer is not known yet.
    Pending,
    /// The amount is held on the buyer's payment method.
    Authorized,
    /// The money moved; the order is paid.
    Captured,
    /// The provider declined (see `failure`).
    Failed,
    /// The money went back.
    Refunded,
}

impl From<PaymentStatus> for PaymentStatusNode {
    fn from(status: PaymentStatus) -> Self {
        match status {
            PaymentStatus::Pending => Self::Pending,
            PaymentStatus::Authorized => Self::Authorized,
            PaymentStatus::Captured => Self::Captured,
            PaymentStatus::Failed => Self::Failed,
            PaymentStatus::Refunded => Self::Refunded,
        }
    }
}

/// One attempt to pay an order, as its buyer and staff see it.
pub struct PaymentNode(Payment);

#[Object(name = "Payment")]
impl PaymentNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn status(&self) -> PaymentStatusNode {
        self.0.status.into()
    }

    /// The order's total when the attempt was made.
    async fn amount(&self) -> MoneyNode {
        MoneyNode::new(self.0.amount_minor, &self.0.currency)
    }

    /// The payment provider, e.g. `fake`.
    async fn provider(&self) -> &str {
        &self.0.provider
    }

    /// The provider's reference once it authorised the payment.
    async fn provider_ref(&self) -> Option<&str> {
        self.0.provider_ref.as_ref().map(|r| r.as_str())
    }

    /// Why the provider declined, in its words (`card_declined`, `insufficient_funds`).
    async fn failure(&self) -> Option<&str> {
        self.0.failure.as_deref()
    }

    /// When the attempt was made, RFC 3339 in UTC.
    async fn created_at(&self) -> String {
        self.0
            .created_at
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

impl PaymentNode {
    pub fn new(payment: Payment) -> Self {
        Self(payment)
    }
}

/// Loads the payments of orders in batches of one `payments_of` call per reader.
pub struct PaymentLoader {
    store: Arc<dyn CommerceStore>,
}

impl PaymentLoader {
    pub fn new(store: Arc<dyn CommerceStore>) -> Self {
        Self { store }
    }
}

impl Loader<ReadKey<OrderId>> for PaymentLoader {
    type Value = Vec<Payment>;
    type Error = StoreError;

    async fn load(
        &self,
        keys: &[ReadKey<OrderId>],
    ) -> Result<HashMap<ReadKey<OrderId>, Vec<Payment>>, StoreError> {
        let mut found: HashMap<ReadKey<OrderId>, Vec<Payment>> =
            keys.iter().map(|key| (key.clone(), Vec::new())).collect();
        for (reader, orders) in by_reader(keys) {
            for payment in self.store.payments_of(&orders, reader).await? {
                let key = ReadKey {
                    id: payment.order,
                    reader,
                };
                found.entry(key).or_default().push(payment);
            }
        }
        Ok(found)
    }
}
