//! An order's life after placing, through `crate::payments` and `crate::orders` with the fake
//! payment provider: addresses and their snapshot, paying (declines, lost answers, duplicate
//! callbacks), shipping, delivery and refunds, with the stock counters checked at every step.
//!
//! Non-obvious: every check ends with [`counters_hold`], which asks the store for inventory
//! drift (`reserved` against the total of held reservations) over the whole database, so a step
//! that moved `reserved` without its reservation (or the other way round) fails here.

use std::time::Duration;

use super::orders::{place, unfinished_of};
use super::{create_user, ship_to, stocked_product, unique_key};
use chrono::Utc;

use crate::domain::{
    AddAddressOutcome, AddressParts, ArchiveReport, CancelOutcome, MAX_ADDRESSES_PER_USER,
    NewAddress, Order, OrderStatus, PaymentEvent, PaymentMethod, PaymentStatus, PaymentUpdate,
    PostalAddress, Product, User,
};
use crate::ids::{OrderId, UserId};
use crate::orders::{CancelError, StatusError, cancel_order, mark_delivered, ship_order, sweep};
use crate::payments::{
    FakeProvider, PayError, PayOrder, RefundError, apply_event, pay_order, refund_order,
};
use crate::store::CommerceStore;

const LIMIT: Duration = Duration::from_secs(5);

fn address(line1: &str) -> PostalAddress {
    PostalAddress::parse(&AddressParts {
        recipient: "Ada Buyer",
        line1,
        city: "Lyon",
        country: "FR",
        ..AddressParts::default()
    })
    .expect("a valid address")
}

/// No stock row disagrees with its held reservations, anywhere in the database.
async fn counters_hold(store: &dyn CommerceStore) {
    let drift = store.inventory_drift().await.expect("inventory_drift");
    assert!(drift.is_empty(), "inventory.reserved drifted: {drift:?}");
}

/// Units of the product available to sell now.
async fn stock(store: &dyn CommerceStore, product: &Product) -> i64 {
    super::available(store, product.id).await
}

/// A buyer, a product with 10 units priced 2.50 USD, and a pending order of `units` of it
/// (public for adapters' own tests).
pub async fn pending_order(
    store: &dyn CommerceStore,
    tag: &str,
    units: i32,
) -> (User, Product, Order) {
    let product = stocked_product(store, tag, 250, 10).await;
    let user = create_user(store, tag).await;
    let order = place(store, &user, &unique_key(tag), &[(&product.sku, units)])
        .await
        .expect("place_order");
    (user, product, order)
}

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

async fn status_of(store: &dyn CommerceStore, order: OrderId) -> OrderStatus {
    let found = store
        .orders_by_ids(&[order], None)
        .await
        .expect("orders_by_ids");
    found.first().expect("the order exists").status
}

async fn payment_statuses(store: &dyn CommerceStore, order: OrderId) -> Vec<PaymentStatus> {
    let found = store
        .payments_of(&[order], None)
        .await
        .expect("payments_of");
    found.iter().map(|p| p.status).collect()
}

/// Addresses are listed newest first, the book holds [`MAX_ADDRESSES_PER_USER`], and an order
/// keeps a copy of the address it ships to.
pub async fn an_address_book_is_bounded_and_orders_keep_a_copy(store: &dyn CommerceStore) {
    let user = create_user(store, "book").await;
    let mut added = Vec::new();
    for n in 0..MAX_ADDRESSES_PER_USER {
        let new = NewAddress::new(user.id, Some("Home"), address(&format!("{n} Rue Neuve")))
            .expect("a valid entry");
        match store.add_address(&new).await.expect("add_address") {
            AddAddressOutcome::Added(a) => added.push(a),
            other => panic!("entry {n} not added: {other:?}"),
        }
    }
    let book = store.addresses(user.id).await.expect("addresses");
    let mut newest_first = added.clone();
    newest_first.reverse();
    assert_eq!(book, newest_first);
    let one_more = NewAddress::new(user.id, None, address("21 Rue Pleine")).unwrap();
    assert_eq!(
        store.add_address(&one_more).await.unwrap(),
        AddAddressOutcome::BookFull
    );
    let nobody = UserId::new(user.id.shard());
    let lost = NewAddress::new(nobody, None, address("1 Rue Vide")).unwrap();
    assert_eq!(
        store.add_address(&lost).await.unwrap(),
        AddAddressOutcome::UnknownUser
    );

    let (_, _, order) = pending_order(store, "snap", 1).await;
    let read = store.orders_by_ids(&[order.id], None).await.unwrap();
    assert_eq!(
        read[0].ship_to.as_ref(),
        Some(&ship_to()),
        "the copy is stored"
    );
    cancel_order(store, order.id).await.unwrap();
    counters_hold(store).await;
}

/// Paying authorises and captures once: the order is paid, a retry with the key returns it,
/// another key is refused, and cancelling a paid order is refused.
pub async fn paying_captures_once_and_the_order_becomes_paid(store: &dyn CommerceStore) {
    let provider = FakeProvider::new();
    let (user, product, order) = pending_order(store, "pay", 2).await;
    let key = unique_key("pay");
    let paid = pay(store, &provider, &order, key.as_str(), "tok_visa")
        .await
        .unwrap();
    assert_eq!(paid.status, OrderStatus::Paid);
    let again = pay(store, &provider, &order, key.as_str(), "tok_visa")
        .await
        .unwrap();
    assert_eq!(
        again.status,
        OrderStatus::Paid,
        "a retry returns the paid order"
    );
    let double = pay(store, &provider, &order, "another-key", "tok_visa").await;
    assert!(
        matches!(double, Err(PayError::NotPayable(OrderStatus::Paid))),
        "{double:?}"
    );
    assert_eq!(
        payment_statuses(store, order.id).await,
        [PaymentStatus::Captured]
    );
    let payment = &store.payments_of(&[order.id], None).await.unwrap()[0];
    assert_eq!(payment.amount_minor, order.total_minor);
    assert!(payment.provider_ref.is_some());
    let recapture = store
        .record_payment(payment.id, &PaymentEvent::Captured)
        .await
        .unwrap();
    assert!(matches!(recapture, PaymentUpdate::AlreadyApplied(_)));
    assert!(matches!(
        cancel_order(store, order.id).await,
        Err(CancelError::NotCancellable(OrderStatus::Paid))
    ));
    assert_eq!(stock(store, &product).await, 8, "paying moves no stock");
    assert!(unfinished_of(store, &[user.id]).await.is_empty());
    counters_hold(store).await;
}

/// A declined payment leaves the order pending with a failed attempt, answers the same on a
/// retry, and another method then pays it.
pub async fn a_declined_payment_changes_nothing_but_its_attempt(store: &dyn CommerceStore) {
    let provider = FakeProvider::new();
    let (_, product, order) = pending_order(store, "decline", 1).await;
    for _ in 0..2 {
        let declined = pay(store, &provider, &order, "declined", "tok_chargeDeclined").await;
        assert!(
            matches!(&declined, Err(PayError::Declined(r)) if r == "card_declined"),
            "{declined:?}"
        );
    }
    assert_eq!(status_of(store, order.id).await, OrderStatus::Pending);
    assert_eq!(
        payment_statuses(store, order.id).await,
        [PaymentStatus::Failed]
    );
    let paid = pay(store, &provider, &order, "second", "tok_visa")
        .await
        .unwrap();
    assert_eq!(paid.status, OrderStatus::Paid);
    assert_eq!(
        payment_statuses(store, order.id).await,
        [PaymentStatus::Failed, PaymentStatus::Captured]
    );
    assert_eq!(stock(store, &product).await, 9);
    counters_hold(store).await;
}

/// The provider approved but its answer was lost: the order stays pending, cannot be cancelled
/// under a payment in flight, and the retry with the same key finds the approval and captures
/// it once.
pub async fn a_lost_answer_is_finished_by_the_retry_without_a_second_charge(
    store: &dyn CommerceStore,
) {
    let provider = FakeProvider::new();
    let (_, _, order) = pending_order(store, "lost", 1).await;
    let lost = pay(store, &provider, &order, "lost", "tok_timeout").await;
    assert!(
        matches!(lost, Err(PayError::ProviderUnavailable(_))),
        "{lost:?}"
    );
    assert_eq!(status_of(store, order.id).await, OrderStatus::Pending);
    assert_eq!(
        payment_statuses(store, order.id).await,
        [PaymentStatus::Pending]
    );
    assert!(matches!(
        cancel_order(store, order.id).await,
        Err(CancelError::PaymentInProgress)
    ));
    assert_eq!(
        store.mark_order_cancelled(order.id).await.unwrap(),
        CancelOutcome::PaymentInProgress
    );
    let other = pay(store, &provider, &order, "impatient", "tok_visa").await;
    assert!(matches!(other, Err(PayError::InProgress)), "{other:?}");
    let paid = pay(store, &provider, &order, "lost", "tok_timeout")
        .await
        .unwrap();
    assert_eq!(paid.status, OrderStatus::Paid);
    assert_eq!(
        payment_statuses(store, order.id).await,
        [PaymentStatus::Captured]
    );
    counters_hold(store).await;
}

/// Callbacks arrive twice, and one may be the only news of a capture whose answer was lost:
/// applying every callback moves each payment once and pays the order without a retry.
pub async fn duplicate_callbacks_apply_once(store: &dyn CommerceStore) {
    let (provider, mut callbacks) = FakeProvider::with_callbacks();
    let (_, _, order) = pending_order(store, "callback", 1).await;
    let lost = pay(store, &provider, &order, "capture", "tok_captureTimeout").await;
    assert!(
        matches!(lost, Err(PayError::ProviderUnavailable(_))),
        "{lost:?}"
    );
    assert_eq!(
        payment_statuses(store, order.id).await,
        [PaymentStatus::Authorized]
    );
    let mut delivered = 0;
    while let Ok(news) = callbacks.try_recv() {
        apply_event(store, &news).await.expect("apply_event");
        delivered += 1;
    }
    assert_eq!(delivered, 4, "authorised and captured, each sent twice");
    assert_eq!(status_of(store, order.id).await, OrderStatus::Paid);
    assert_eq!(
        payment_statuses(store, order.id).await,
        [PaymentStatus::Captured]
    );
    counters_hold(store).await;
}

/// Shipping a paid order turns its reservations into stock that left: `on_hand` and `reserved`
/// fall together (available unchanged), once, and only a paid order ships; delivery follows
/// shipping only.
pub async fn shipping_turns_reservations_into_stock_that_left(store: &dyn CommerceStore) {
    let provider = FakeProvider::new();
    let (user, product, order) = pending_order(store, "ship", 3).await;
    assert!(matches!(
        ship_order(store, order.id).await,
        Err(StatusError::Refused(OrderStatus::Pending))
    ));
    assert!(matches!(
        mark_delivered(store, order.id).await,
        Err(StatusError::Refused(OrderStatus::Pending))
    ));
    pay(store, &provider, &order, "ship", "tok_visa")
        .await
        .unwrap();
    assert_eq!(stock(store, &product).await, 7);
    let shipped = ship_order(store, order.id).await.unwrap();
    assert_eq!(shipped.status, OrderStatus::Shipped);
    assert_eq!(shipped.lines.len(), 1);
    assert_eq!(stock(store, &product).await, 7, "available does not move");
    assert!(store.ship_stock(order.id).await.unwrap().is_empty(), "once");
    assert!(store.release_stock(order.id).await.unwrap().is_empty());
    let again = ship_order(store, order.id).await.unwrap();
    assert_eq!(again.status, OrderStatus::Shipped);
    assert_eq!(stock(store, &product).await, 7);
    counters_hold(store).await;

    // 10 on hand, 3 shipped: 7 on hand, none reserved. Another order of 7 fits exactly.
    let rest = place(store, &user, &unique_key("rest"), &[(&product.sku, 7)])
        .await
        .expect("the seven left can be sold");
    cancel_order(store, rest.id).await.unwrap();

    let delivered = mark_delivered(store, order.id).await.unwrap();
    assert_eq!(delivered.status, OrderStatus::Delivered);
    assert_eq!(
        mark_delivered(store, order.id).await.unwrap().status,
        OrderStatus::Delivered
    );
    assert_eq!(
        ship_order(store, order.id).await.unwrap().status,
        OrderStatus::Delivered,
        "shipping a delivered order returns it"
    );
    assert!(unfinished_of(store, &[user.id]).await.is_empty());
    counters_hold(store).await;
}

/// A process that died after marking the order shipped: the request shows as unfinished and
/// the sweeper moves the stock once.
pub async fn a_crash_after_ship_mark_is_finished_by_the_sweeper(store: &dyn CommerceStore) {
    let provider = FakeProvider::new();
    let (user, product, order) = pending_order(store, "shipcrash", 2).await;
    pay(store, &provider, &order, "shipcrash", "tok_visa")
        .await
        .unwrap();
    store.mark_order_shipping(order.id).await.unwrap();
    assert_eq!(status_of(store, order.id).await, OrderStatus::Shipped);
    assert_eq!(unfinished_of(store, &[user.id]).await.len(), 1);
    counters_hold(store).await;
    let report = sweep(store, Duration::ZERO).await.unwrap();
    assert!(report.shipped >= 1, "{report:?}");
    assert!(unfinished_of(store, &[user.id]).await.is_empty());
    assert!(store.ship_stock(order.id).await.unwrap().is_empty());
    assert_eq!(stock(store, &product).await, 8);
    counters_hold(store).await;
}

/// Refunds: an unpaid order is refused with nothing changed; a paid order that had not shipped
/// gets its stock back; a shipped one does not; refunding twice changes nothing more.
pub async fn refunds_give_money_back_and_stock_only_before_shipping(store: &dyn CommerceStore) {
    let provider = FakeProvider::new();
    let (user, product, unpaid) = pending_order(store, "refund", 2).await;
    let refused = refund_order(store, &provider, unpaid.id, None, LIMIT).await;
    assert!(
        matches!(
            refused,
            Err(RefundError::NotRefundable(OrderStatus::Pending))
        ),
        "{refused:?}"
    );
    assert_eq!(status_of(store, unpaid.id).await, OrderStatus::Pending);
    assert_eq!(stock(store, &product).await, 8, "nothing changed");

    pay(store, &provider, &unpaid, "refund-1", "tok_visa")
        .await
        .unwrap();
    let refunded = refund_order(store, &provider, unpaid.id, None, LIMIT)
        .await
        .unwrap();
    assert_eq!(refunded.status, OrderStatus::Refunded);
    assert_eq!(
        stock(store, &product).await,
        10,
        "not shipped: the stock is back"
    );
    assert_eq!(
        payment_statuses(store, unpaid.id).await,
        [PaymentStatus::Refunded]
    );
    let twice = refund_order(store, &provider, unpaid.id, None, LIMIT)
        .await
        .unwrap();
    assert_eq!(twice.status, OrderStatus::Refunded);
    assert_eq!(stock(store, &product).await, 10, "once");
    counters_hold(store).await;

    let shipped = place(store, &user, &unique_key("refund-2"), &[(&product.sku, 4)])
        .await
        .unwrap();
    pay(store, &provider, &shipped, "refund-2", "tok_visa")
        .await
        .unwrap();
    ship_order(store, shipped.id).await.unwrap();
    let back = refund_order(store, &provider, shipped.id, None, LIMIT)
        .await
        .unwrap();
    assert_eq!(back.status, OrderStatus::Refunded);
    assert_eq!(
        stock(store, &product).await,
        6,
        "shipped units do not come back"
    );
    assert!(unfinished_of(store, &[user.id]).await.is_empty());
    counters_hold(store).await;

    let nothing = refund_order(store, &provider, OrderId::new(user.id.shard()), None, LIMIT).await;
    assert!(matches!(nothing, Err(RefundError::NotFound)), "{nothing:?}");
}

/// Settled rows leave the hot tables once their order is older than the window, in batches;
/// rows of orders in flight stay however old, and the stock counters do not move.
pub async fn settled_rows_leave_the_hot_tables_and_live_ones_stay(store: &dyn CommerceStore) {
    let provider = FakeProvider::new();
    let product = stocked_product(store, "archive", 100, 10).await;
    let user = create_user(store, "archive").await;
    let keys = [
        unique_key("cancelled"),
        unique_key("shipped"),
        unique_key("live"),
    ];
    let cancelled = place(store, &user, &keys[0], &[(&product.sku, 1)])
        .await
        .unwrap();
    cancel_order(store, cancelled.id).await.unwrap();
    let shipped = place(store, &user, &keys[1], &[(&product.sku, 2)])
        .await
        .unwrap();
    pay(store, &provider, &shipped, "archive", "tok_visa")
        .await
        .unwrap();
    ship_order(store, shipped.id).await.unwrap();
    let live = place(store, &user, &keys[2], &[(&product.sku, 3)])
        .await
        .unwrap();
    let rejected = unique_key("rejected");
    assert!(
        place(store, &user, &rejected, &[(&product.sku, 9)])
            .await
            .is_err()
    );
    assert_eq!(stock(store, &product).await, 5);

    // Inside the window nothing of these orders moves: the key still finds its order.
    let an_hour_ago = Utc::now() - chrono::Duration::hours(1);
    store
        .archive_settled(an_hour_ago, Utc::now(), 10_000)
        .await
        .unwrap();
    let again = place(store, &user, &keys[0], &[(&product.sku, 1)])
        .await
        .unwrap();
    assert_eq!(
        again.id, cancelled.id,
        "a settled request inside the window stays"
    );

    let later = Utc::now() + chrono::Duration::minutes(1);
    let (mut moved, mut calls) = (ArchiveReport::default(), 0);
    for _ in 0..10_000 {
        let batch = store.archive_settled(later, Utc::now(), 1).await.unwrap();
        if batch == ArchiveReport::default() {
            break;
        }
        moved.add(batch);
        calls += 1;
    }
    assert!(moved.requests >= 3 && moved.reservations >= 2, "{moved:?}");
    // One row of each table per database and call: this user's three requests (on one
    // database) took three calls at least.
    assert!(calls >= 3, "batches of one: {calls} calls moved {moved:?}");
    assert_eq!(stock(store, &product).await, 5, "archiving moves no stock");
    counters_hold(store).await;

    // The live order kept its request and its held units: cancelling it gives them back.
    cancel_order(store, live.id).await.unwrap();
    assert_eq!(stock(store, &product).await, 8);
    // A settled request left: its key is free again, and now places a new order.
    let fresh = place(store, &user, &keys[1], &[(&product.sku, 1)])
        .await
        .unwrap();
    assert_ne!(fresh.id, shipped.id);
    cancel_order(store, fresh.id).await.unwrap();
    assert!(unfinished_of(store, &[user.id]).await.is_empty());
    counters_hold(store).await;
}
