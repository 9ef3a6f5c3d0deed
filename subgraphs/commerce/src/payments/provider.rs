//! The payment provider port: authorise, capture, refund, each keyed by our payment id so a
//! repeated call returns the first call's answer, never a second charge.
//!
//! Non-obvious: a timeout is not a failure. The provider may have done the work and lost the
//! answer, so [`ProviderError`] means "outcome unknown": the payment stays where it was, and
//! either the buyer's retry (same idempotency key → same payment id → the provider's first
//! answer) or the provider's callback moves it on.

use std::time::Duration;

use async_trait::async_trait;

use crate::domain::{Money, PaymentMethod, ProviderRef};
use crate::ids::PaymentId;

/// Longest we wait for the provider before the outcome counts as unknown.
pub const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// What authorising said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    /// The amount is held on the buyer's payment method under this reference.
    Approved(ProviderRef),
    /// Refused, in the provider's words (`card_declined`, `insufficient_funds`).
    Declined(String),
}

/// What capturing said: both mean the money moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    Captured,
    /// A capture of this authorisation had already happened (a retry, a double click).
    AlreadyCaptured,
}

/// What refunding said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refund {
    Refunded,
    /// The refund had already happened.
    AlreadyRefunded,
    /// Nothing was captured under this reference, so nothing can go back.
    NotCaptured,
}

/// The provider did not answer in time, or answered with an error: the outcome is unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("the payment provider did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
}

/// A payment provider (Stripe, Adyen, …), or the fake that stands in for one here.
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// Recorded with every payment (`payments.provider`), so a reference is unique per provider.
    fn name(&self) -> &str;
    /// Holds `amount` on `method`. Asked again with the same `payment`, answers the same.
    async fn authorize(
        &self,
        payment: PaymentId,
        amount: &Money,
        method: &PaymentMethod,
    ) -> Result<Authorization, ProviderError>;
    /// Takes the authorised amount.
    async fn capture(
        &self,
        payment: PaymentId,
        reference: &ProviderRef,
    ) -> Result<Capture, ProviderError>;
    /// Gives the captured amount back.
    async fn refund(
        &self,
        payment: PaymentId,
        reference: &ProviderRef,
    ) -> Result<Refund, ProviderError>;
}

/// Runs a provider call under [`PROVIDER_TIMEOUT`] (or `limit` in tests).
pub(crate) async fn bounded<T>(
    limit: Duration,
    call: impl std::future::Future<Output = Result<T, ProviderError>>,
) -> Result<T, ProviderError> {
    tokio::time::timeout(limit, call)
        .await
        .unwrap_or(Err(ProviderError::Timeout(limit)))
}
