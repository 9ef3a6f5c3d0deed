//! A fake payment provider that behaves like a real one where it matters to us: it declines some
//! payment methods, loses some answers (a timeout after it did the work), answers a repeated call
//! with the first answer, refuses to capture or refund what it should not, and sends its
//! callbacks twice. It is a double of our own port ([`PaymentProvider`]) for a service that
//! cannot run here; the database behind it in tests is always real.
//!
//! Test payment methods, in the style of real providers' test cards:
//! - `tok_visa` (or any other `tok_…`): approved.
//! - `tok_chargeDeclined`: declined with `card_declined`; `tok_insufficientFunds`: declined
//!   with `insufficient_funds`. Anything not starting with `tok_`: `invalid_payment_method`.
//! - `tok_timeout`: the first authorisation of a payment is approved but its answer is lost
//!   (`ProviderError::Timeout`); asking again returns the approval.
//! - `tok_captureTimeout`: the same for the first capture.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::callbacks::ProviderEvent;
use super::provider::{Authorization, Capture, PaymentProvider, ProviderError, Refund};
use crate::domain::{Money, PaymentEvent, PaymentMethod, ProviderRef};
use crate::ids::PaymentId;

/// The provider's name in `payments.provider`.
pub const FAKE_PROVIDER: &str = "fake";

/// What the fake remembers of one payment (by our payment id, its idempotency key).
#[derive(Debug, Clone)]
struct Charge {
    reference: ProviderRef,
    answer: Authorization,
    captured: bool,
    refunded: bool,
    capture_answered: bool,
}

#[derive(Default)]
struct Ledger {
    charges: HashMap<PaymentId, Charge>,
    next: u64,
}

/// See the module doc.
pub struct FakeProvider {
    ledger: Mutex<Ledger>,
    callbacks: Option<mpsc::UnboundedSender<ProviderEvent>>,
}

impl FakeProvider {
    /// A fake that sends no callbacks.
    pub fn new() -> Self {
        Self {
            ledger: Mutex::default(),
            callbacks: None,
        }
    }

    /// A fake that sends every event twice (as real webhooks may) to the returned receiver.
    pub fn with_callbacks() -> (Self, mpsc::UnboundedReceiver<ProviderEvent>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let fake = Self {
            ledger: Mutex::default(),
            callbacks: Some(sender),
        };
        (fake, receiver)
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends `event` for `payment` twice: webhooks are delivered at least once.
    fn call_back(&self, payment: PaymentId, event: PaymentEvent) {
        if let Some(sender) = &self.callbacks {
            for _ in 0..2 {
                // A closed receiver only means nobody listens any more.
                let _ = sender.send(ProviderEvent {
                    payment,
                    event: event.clone(),
                });
            }
        }
    }

    fn lost_answer() -> ProviderError {
        ProviderError::Timeout(Duration::ZERO)
    }
}

impl Default for FakeProvider {
    fn default() -> Self {
        Self::new()
    }
}

fn decide(method: &PaymentMethod) -> Result<(), &'static str> {
    match method.as_str() {
        "tok_chargeDeclined" => Err("card_declined"),
        "tok_insufficientFunds" => Err("insufficient_funds"),
        m if m.starts_with("tok_") => Ok(()),
        _ => Err("invalid_payment_method"),
    }
}

#[async_trait]
impl PaymentProvider for FakeProvider {
    fn name(&self) -> &str {
        FAKE_PROVIDER
    }

    async fn authorize(
        &self,
        payment: PaymentId,
        _amount: &Money,
        method: &PaymentMethod,
    ) -> Result<Authorization, ProviderError> {
        let (answer, lose_it) = {
            let mut ledger = self.ledger();
            if let Some(known) = ledger.charges.get(&payment) {
                return Ok(known.answer.clone());
            }
            ledger.next += 1;
            let reference = ProviderRef::parse(&format!("fake_auth_{payment}_{}", ledger.next))
                .expect("a well-formed reference");
            let answer = match decide(method) {
                Ok(()) => Authorization::Approved(reference.clone()),
                Err(reason) => Authorization::Declined(reason.to_owned()),
            };
            ledger.charges.insert(
                payment,
                Charge {
                    reference,
                    answer: answer.clone(),
                    captured: false,
                    refunded: false,
                    capture_answered: method.as_str() != "tok_captureTimeout",
                },
            );
            (answer, method.as_str() == "tok_timeout")
        };
        match &answer {
            Authorization::Approved(r) => {
                self.call_back(payment, PaymentEvent::Authorized(r.clone()))
            }
            Authorization::Declined(reason) => {
                self.call_back(payment, PaymentEvent::Declined(reason.clone()))
            }
        }
        if lose_it {
            return Err(Self::lost_answer());
        }
        Ok(answer)
    }

    async fn capture(
        &self,
        payment: PaymentId,
        reference: &ProviderRef,
    ) -> Result<Capture, ProviderError> {
        let (outcome, lose_it) = {
            let mut ledger = self.ledger();
            let charge = ledger
                .charges
                .get_mut(&payment)
                .filter(|c| &c.reference == reference)
                .filter(|c| matches!(c.answer, Authorization::Approved(_)))
                .ok_or_else(|| {
                    ProviderError::Unavailable(format!("no authorisation {}", reference.as_str()))
                })?;
            let outcome = if charge.captured {
                Capture::AlreadyCaptured
            } else {
                charge.captured = true;
                Capture::Captured
            };
            let lose_it = !charge.capture_answered;
            charge.capture_answered = true;
            (outcome, lose_it)
        };
        if outcome == Capture::Captured {
            self.call_back(payment, PaymentEvent::Captured);
        }
        if lose_it {
            return Err(Self::lost_answer());
        }
        Ok(outcome)
    }

    async fn refund(
        &self,
        payment: PaymentId,
        reference: &ProviderRef,
    ) -> Result<Refund, ProviderError> {
        let outcome = {
            let mut ledger = self.ledger();
            match ledger
                .charges
                .get_mut(&payment)
                .filter(|c| &c.reference == reference)
            {
                Some(charge) if charge.refunded => Refund::AlreadyRefunded,
                Some(charge) if charge.captured => {
                    charge.refunded = true;
                    Refund::Refunded
                }
                _ => Refund::NotCaptured,
            }
        };
        if outcome == Refund::Refunded {
            self.call_back(payment, PaymentEvent::Refunded);
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Currency;

    fn usd(n: i64) -> Money {
        Money::new(n, Currency::usd()).unwrap()
    }

    fn method(token: &str) -> PaymentMethod {
        PaymentMethod::parse(token).unwrap()
    }

    #[tokio::test]
    async fn asking_again_returns_the_first_answer_and_captures_once() {
        let fake = FakeProvider::new();
        let payment = PaymentId::new(1);
        let first = fake
            .authorize(payment, &usd(100), &method("tok_visa"))
            .await
            .unwrap();
        let again = fake
            .authorize(payment, &usd(100), &method("tok_visa"))
            .await
            .unwrap();
        assert_eq!(first, again);
        let Authorization::Approved(reference) = first else {
            panic!("approved")
        };
        assert_eq!(
            fake.capture(payment, &reference).await,
            Ok(Capture::Captured)
        );
        assert_eq!(
            fake.capture(payment, &reference).await,
            Ok(Capture::AlreadyCaptured)
        );
        assert_eq!(fake.refund(payment, &reference).await, Ok(Refund::Refunded));
        assert_eq!(
            fake.refund(payment, &reference).await,
            Ok(Refund::AlreadyRefunded)
        );
    }

    #[tokio::test]
    async fn declines_lost_answers_and_refunds_of_nothing_behave_like_a_provider() {
        let fake = FakeProvider::new();
        let declined = fake
            .authorize(PaymentId::new(1), &usd(5), &method("tok_chargeDeclined"))
            .await;
        assert_eq!(
            declined,
            Ok(Authorization::Declined("card_declined".into()))
        );
        let lost = PaymentId::new(1);
        assert!(
            fake.authorize(lost, &usd(5), &method("tok_timeout"))
                .await
                .is_err()
        );
        let found = fake.authorize(lost, &usd(5), &method("tok_timeout")).await;
        let Ok(Authorization::Approved(reference)) = found else {
            panic!("the lost approval is found again: {found:?}")
        };
        assert_eq!(fake.refund(lost, &reference).await, Ok(Refund::NotCaptured));
    }

    #[tokio::test]
    async fn every_callback_arrives_twice() {
        let (fake, mut events) = FakeProvider::with_callbacks();
        let payment = PaymentId::new(2);
        fake.authorize(payment, &usd(5), &method("tok_visa"))
            .await
            .unwrap();
        let first = events.recv().await.unwrap();
        let second = events.recv().await.unwrap();
        assert_eq!(first, second);
        assert_eq!(first.payment, payment);
    }
}
