//! Payments of an order: one row per attempt, moved through the provider's answers
//! (authorised → captured → refunded, or failed) by events that may arrive twice.
//!
//! Non-obvious: a payment's id is ours, made on the order's shard before the provider is asked,
//! and it is the idempotency key we give the provider: asking again after a timeout returns the
//! authorisation the first call made, never a second charge. Every event is a transition from
//! one named state to the next, so an event applied twice (a retry, a duplicate callback) finds
//! its work done and changes nothing.

use chrono::{DateTime, Utc};

use super::{Currency, IdempotencyKey, InvalidInput, invalid};
use crate::ids::{OrderId, PaymentId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    /// Recorded before the provider was asked; the provider's answer is not known yet.
    Pending,
    /// The provider holds the amount on the buyer's card.
    Authorized,
    /// The money moved: the order is paid.
    Captured,
    /// The provider declined; the order is still unpaid.
    Failed,
    /// The money went back.
    Refunded,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Authorized => "authorized",
            Self::Captured => "captured",
            Self::Failed => "failed",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Authorized,
            Self::Captured,
            Self::Failed,
            Self::Refunded,
        ]
        .into_iter()
        .find(|s| s.as_str() == stored)
    }

    /// Pending, authorised and captured payments are live: an order has at most one (a unique
    /// index says so), so two payment calls can never both charge it.
    pub fn live(self) -> bool {
        matches!(self, Self::Pending | Self::Authorized | Self::Captured)
    }
}

/// The provider's reference for an authorisation: 1 to 100 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProviderRef(String);

impl ProviderRef {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        if raw.is_empty() || raw.len() > 100 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return invalid("providerRef", "must be 1 to 100 printable ASCII characters");
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the buyer pays with, as the provider's client library tokenised it (`tok_…`): 1 to 200
/// printable ASCII characters. Card numbers never reach us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentMethod(String);

impl PaymentMethod {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 200 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return invalid(
                "paymentMethod",
                "must be a payment token of 1 to 200 printable ASCII characters",
            );
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A payment attempt as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: PaymentId,
    pub order: OrderId,
    pub amount_minor: i64,
    pub currency: Currency,
    pub status: PaymentStatus,
    /// Which provider (its `name()`).
    pub provider: String,
    pub provider_ref: Option<ProviderRef>,
    /// Why the provider declined, in its words (`card_declined`, `insufficient_funds`).
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A payment attempt to record before the provider is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    pub id: PaymentId,
    pub order: OrderId,
    /// The client's key for this `payOrder`: a retry with it finds this payment again.
    pub key: IdempotencyKey,
    pub provider: String,
}

impl NewPayment {
    /// A new attempt for `order`, with an id on the order's shard (payments live there).
    pub fn new(order: OrderId, key: IdempotencyKey, provider: &str) -> Self {
        Self {
            id: PaymentId::new(order.shard()),
            order,
            key,
            provider: provider.to_owned(),
        }
    }
}

/// What recording a payment attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenPayment {
    /// Recorded now (pending), or found again under the same key: carry on from its status.
    Ready(Payment),
    /// The order is not waiting for payment (paid already, cancelled, …); nothing was recorded.
    NotPayable(super::OrderStatus),
    /// Another attempt for the order is live under a different key; nothing was recorded.
    InProgress(Payment),
    /// The order's total is zero: there is nothing to charge.
    NothingToPay,
    NotFound,
}

/// What the provider said about a payment, as a transition to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentEvent {
    /// pending → authorized.
    Authorized(ProviderRef),
    /// pending → failed.
    Declined(String),
    /// authorized → captured; the order becomes paid.
    Captured,
    /// captured → refunded; the order becomes refunded (and its stock goes back if it had not
    /// shipped).
    Refunded,
}

impl PaymentEvent {
    /// The status the event moves a payment to.
    pub fn target(&self) -> PaymentStatus {
        match self {
            Self::Authorized(_) => PaymentStatus::Authorized,
            Self::Declined(_) => PaymentStatus::Failed,
            Self::Captured => PaymentStatus::Captured,
            Self::Refunded => PaymentStatus::Refunded,
        }
    }

    /// The status the payment must be in for the event to apply.
    pub fn source(&self) -> PaymentStatus {
        match self {
            Self::Authorized(_) | Self::Declined(_) => PaymentStatus::Pending,
            Self::Captured => PaymentStatus::Authorized,
            Self::Refunded => PaymentStatus::Captured,
        }
    }
}

/// What applying a [`PaymentEvent`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentUpdate {
    /// Applied now. `release_stock`: the order was refunded before it shipped, so its request
    /// is now `Releasing` and its reservations are to be given back.
    Applied {
        payment: Payment,
        release_stock: bool,
    },
    /// The payment had already moved there (a retry or a duplicate callback): nothing changed.
    AlreadyApplied(Payment),
    /// The payment is elsewhere (e.g. a capture of a failed payment): nothing changed.
    Refused(Payment),
    NotFound,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_only_three_are_live() {
        for s in ["pending", "authorized", "captured", "failed", "refunded"] {
            assert_eq!(PaymentStatus::parse(s).unwrap().as_str(), s);
        }
        let live: Vec<_> = ["pending", "authorized", "captured", "failed", "refunded"]
            .into_iter()
            .filter(|s| PaymentStatus::parse(s).unwrap().live())
            .collect();
        assert_eq!(live, ["pending", "authorized", "captured"]);
    }

    #[test]
    fn events_move_one_step_each() {
        let r = ProviderRef::parse("auth_1").unwrap();
        let steps = [
            PaymentEvent::Authorized(r),
            PaymentEvent::Captured,
            PaymentEvent::Refunded,
        ];
        for pair in steps.windows(2) {
            assert_eq!(pair[0].target(), pair[1].source());
        }
        assert!(ProviderRef::parse("has space").is_err());
    }
}
