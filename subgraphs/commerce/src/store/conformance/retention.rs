//! Payments after the retention window: final ones leave the hot table for the archive (the
//! upkeep pass, with its clock moved forward), live ones stay, and an archived payment still
//! answers everything that can reach it: an order's payments, a duplicate provider callback, a
//! retried `payOrder`, and a refund.
//!
//! Non-obvious: the trait has no "is it archived" question, so what moved is read from the
//! pass's report: a pass first clears whatever earlier checks on the same database left, and the
//! next passes then count exactly this check's payments.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::orders::{place, unfinished_of};
use super::{create_user, stocked_product, unique_key};
use crate::domain::{
    Order, OrderStatus, PaymentEvent, PaymentMethod, PaymentStatus, PaymentUpdate, ProviderRef,
};
use crate::orders::{cancel_order, mark_delivered, ship_order};
use crate::payments::{
    FakeProvider, PayError, PayOrder, ProviderEvent, apply_event, pay_order, refund_order,
};
use crate::store::CommerceStore;
use crate::upkeep::{UpkeepSettings, run_pass};

const LIMIT: Duration = Duration::from_secs(5);

async fn pay(
    store: &dyn CommerceStore,
    provider: &FakeProvider,
    order: &Order,
    key: &str,
    method: &str,
) -> Result<Order, PayError> {
    let call = PayOrder {
        order: order.id,
        key: crate::domain::IdempotencyKey::parse(key).expect("a key"),
        method: PaymentMethod::parse(method).expect("a method"),
        reader: Some(order.user),
    };
    pay_order(store, provider, call, LIMIT).await
}

/// Payments the upkeep pass archived as of `as_of`.
async fn archived_by_pass(store: &dyn CommerceStore, as_of: DateTime<Utc>) -> u64 {
    let settings = UpkeepSettings::default();
    let report = run_pass(store, None, &settings, as_of)
        .await
        .expect("upkeep pass");
    assert_eq!(report.drift_rows, 0, "archiving moves no stock");
    report.archived.payments
}

async fn the_payment(store: &dyn CommerceStore, order: &Order) -> crate::domain::Payment {
    let mut found = store.payments_of(&[order.id], None).await.unwrap();
    assert_eq!(found.len(), 1, "one attempt: {found:?}");
    found.pop().unwrap()
}

async fn status_of(store: &dyn CommerceStore, order: &Order) -> OrderStatus {
    let found = store.orders_by_ids(&[order.id], None).await.unwrap();
    found.first().expect("the order exists").status
}

/// Declined payments, and captures of orders that left the warehouse, are archived once their
/// order is older than the window; a capture still waiting to ship stays. Archived payments are
/// still listed, a duplicate callback is recognised and changes nothing, a retried `payOrder`
/// finds its declined attempt, and a refund applies once.
pub async fn final_payments_are_archived_and_still_answer_callbacks(store: &dyn CommerceStore) {
    // The clock of the pass: the window (30 days) after "now", plus a day, so every order of this
    // check is old enough whatever the date; computed once, so the passes agree.
    let window = i64::from(UpkeepSettings::default().archive_after_days);
    let as_of = Utc::now() + chrono::Duration::days(window + 1);
    archived_by_pass(store, as_of).await;

    let provider = FakeProvider::new();
    let product = stocked_product(store, "pay-archive", 500, 10).await;
    let user = create_user(store, "pay-archive").await;
    let order = |tag: &'static str| {
        let (product, user) = (&product, &user);
        async move {
            place(store, user, &unique_key(tag), &[(&product.sku, 1)])
                .await
                .unwrap()
        }
    };
    let shipped = order("shipped").await;
    pay(store, &provider, &shipped, "pa-shipped", "tok_visa")
        .await
        .unwrap();
    ship_order(store, shipped.id).await.unwrap();
    let delivered = order("delivered").await;
    pay(store, &provider, &delivered, "pa-delivered", "tok_visa")
        .await
        .unwrap();
    ship_order(store, delivered.id).await.unwrap();
    mark_delivered(store, delivered.id).await.unwrap();
    let declined = order("declined").await;
    let refused = pay(
        store,
        &provider,
        &declined,
        "pa-declined",
        "tok_chargeDeclined",
    )
    .await;
    assert!(matches!(refused, Err(PayError::Declined(_))), "{refused:?}");
    let waiting = order("waiting").await;
    pay(store, &provider, &waiting, "pa-waiting", "tok_visa")
        .await
        .unwrap();
    let captured = the_payment(store, &shipped).await;

    assert_eq!(
        archived_by_pass(store, as_of).await,
        3,
        "shipped, delivered and declined leave; the capture waiting to ship stays"
    );
    assert_eq!(
        archived_by_pass(store, as_of).await,
        0,
        "a pass is idempotent"
    );

    // Still listed, unchanged, for the order and for refunds.
    assert_eq!(the_payment(store, &shipped).await, captured);
    assert_eq!(
        the_payment(store, &declined).await.status,
        PaymentStatus::Failed
    );

    // Duplicate callbacks of archived payments: recognised, not applied again.
    let again = store
        .record_payment(captured.id, &PaymentEvent::Captured)
        .await
        .unwrap();
    assert_eq!(again, PaymentUpdate::AlreadyApplied(captured.clone()));
    // A late authorisation, with its reference or another: the payment is past it.
    let reference = captured.provider_ref.clone().expect("a captured reference");
    let other = ProviderRef::parse("someone-elses-ref").unwrap();
    for late in [reference, other] {
        let event = PaymentEvent::Authorized(late);
        let update = store.record_payment(captured.id, &event).await.unwrap();
        assert_eq!(update, PaymentUpdate::Refused(captured.clone()));
    }
    let failed = the_payment(store, &declined).await;
    let news = ProviderEvent {
        payment: failed.id,
        event: PaymentEvent::Declined("card_declined".into()),
    };
    apply_event(store, &news).await.unwrap();
    assert!(matches!(
        store.record_payment(failed.id, &news.event).await.unwrap(),
        PaymentUpdate::AlreadyApplied(_)
    ));
    assert!(matches!(
        store
            .record_payment(failed.id, &PaymentEvent::Captured)
            .await
            .unwrap(),
        PaymentUpdate::Refused(_)
    ));
    assert_eq!(status_of(store, &shipped).await, OrderStatus::Shipped);
    assert_eq!(the_payment(store, &shipped).await, captured);

    // A retried payOrder with the archived attempt's key answers as the first call did and
    // records no second attempt.
    let retried = pay(store, &provider, &declined, "pa-declined", "tok_visa").await;
    assert!(matches!(retried, Err(PayError::Declined(_))), "{retried:?}");
    assert_eq!(the_payment(store, &declined).await, failed);

    // A refund after the window (a return) applies to the archived capture, once.
    let refunded = refund_order(store, &provider, delivered.id, None, LIMIT)
        .await
        .unwrap();
    assert_eq!(refunded.status, OrderStatus::Refunded);
    let money_back = the_payment(store, &delivered).await;
    assert_eq!(money_back.status, PaymentStatus::Refunded);
    let duplicate = ProviderEvent {
        payment: money_back.id,
        event: PaymentEvent::Refunded,
    };
    apply_event(store, &duplicate).await.unwrap();
    assert_eq!(the_payment(store, &delivered).await, money_back);
    assert_eq!(
        super::available(store, product.id).await,
        6,
        "units that shipped do not come back; the declined and the waiting order hold one each"
    );
    assert_eq!(
        archived_by_pass(store, as_of).await,
        0,
        "it stayed archived"
    );

    // The capture waiting to ship leaves once its order ships.
    ship_order(store, waiting.id).await.unwrap();
    assert_eq!(archived_by_pass(store, as_of).await, 1);
    cancel_order(store, declined.id).await.unwrap();
    assert!(unfinished_of(store, &[user.id]).await.is_empty());
}
