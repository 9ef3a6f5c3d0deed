//! Paying for orders and giving money back, through a [`PaymentProvider`]: `payOrder`
//! (authorise, then capture), `refundOrder`, and the provider's callbacks.
//!
//! Non-obvious: our database and the provider cannot share a transaction, so each step is
//! recorded as a transition of the payment row (pending → authorized → captured → refunded)
//! that applies once, whoever brings the news: the call's own answer, a retry, or a callback
//! that may arrive before, after or twice. A payment left `pending` or `authorized` by a lost
//! answer blocks cancelling the order until one of them moves it on.

mod callbacks;
mod fake;
mod pay;
mod provider;
mod refund;

pub use callbacks::{ProviderEvent, apply_event, run_callbacks};
pub use fake::{FAKE_PROVIDER, FakeProvider};
pub use pay::{PayError, PayOrder, pay_order};
pub use provider::{
    Authorization, Capture, PROVIDER_TIMEOUT, PaymentProvider, ProviderError, Refund,
};
pub use refund::{RefundError, refund_order};

use crate::domain::{Payment, PaymentEvent, PaymentUpdate};
use crate::ids::PaymentId;
use crate::store::{CommerceStore, StoreError};

/// Applies `event` and returns the payment as it now is, whoever moved it there. `release`
/// is true when the event refunded an order that had not shipped (its stock is to go back).
pub(crate) async fn record(
    store: &dyn CommerceStore,
    payment: PaymentId,
    event: &PaymentEvent,
) -> Result<(Payment, bool), StoreError> {
    match store.record_payment(payment, event).await? {
        PaymentUpdate::Applied {
            payment,
            release_stock,
        } => Ok((payment, release_stock)),
        PaymentUpdate::AlreadyApplied(payment) | PaymentUpdate::Refused(payment) => {
            Ok((payment, false))
        }
        PaymentUpdate::NotFound => Err(StoreError::Other(format!("payment {payment} is missing"))),
    }
}
