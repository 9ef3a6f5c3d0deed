//! Orders through `crate::orders` (the saga, or one transaction where the adapter can): placing
//! under contention, idempotency keys, refusals, cancelling, resuming after a crash between two
//! steps, and the order reads.
//!
//! Non-obvious: a crash is simulated by calling the steps a dead process would have completed
//! (e.g. only `open_order_request`), then running the sweeper with no grace period; the sweeper
//! finishes every unfinished request of the database, which is why every check leaves none.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use futures::future::join_all;

use super::{
    add_stock, available, create_user, create_warehouse, eur, qty, ship_to, stocked_product,
    unique_key, unique_sku,
};
use crate::domain::{
    CancelOutcome, Currency, IdempotencyKey, LineRequest, Lines, Order, OrderCursor, OrderRequest,
    OrderStatus, Product, RequestState, Reservation, Sku, User,
};
use crate::ids::{OrderId, UserId};
use crate::orders::{CancelError, PlaceError, PlaceOrder, cancel_order, place_order, sweep};
use crate::store::{CommerceStore, StoreError};

/// Places `lines` (SKU, units) in USD for `user` under `key`.
pub(super) async fn place(
    store: &dyn CommerceStore,
    user: &User,
    key: &IdempotencyKey,
    lines: &[(&Sku, i32)],
) -> Result<Order, PlaceError> {
    let call = PlaceOrder {
        user: user.id,
        key: key.clone(),
        currency: Currency::usd(),
        lines: lines
            .iter()
            .map(|(sku, n)| ((*sku).clone(), qty(*n)))
            .collect(),
        ship_to: ship_to(),
    };
    place_order(store, call).await
}

/// Places one order that must succeed.
async fn placed(store: &dyn CommerceStore, user: &User, lines: &[(&Sku, i32)]) -> Order {
    place(store, user, &unique_key("order"), lines)
        .await
        .expect("place_order")
}

/// `order` with its lines sorted by SKU, since adapters may return them in any order.
fn normalised(mut order: Order) -> Order {
    order.lines.sort_by(|a, b| a.sku.cmp(&b.sku));
    order
}

/// The order as read now, with its lines by SKU.
async fn read_order(store: &dyn CommerceStore, id: OrderId) -> Order {
    let mut found = store
        .orders_by_ids(&[id], None)
        .await
        .expect("orders_by_ids");
    assert_eq!(found.len(), 1, "order {id} is found once: {found:?}");
    normalised(found.remove(0))
}

/// The requests of `users` still unfinished, whatever their age.
pub(super) async fn unfinished_of(
    store: &dyn CommerceStore,
    users: &[UserId],
) -> Vec<OrderRequest> {
    let later = Utc::now() + chrono::Duration::minutes(10);
    let all = store
        .unfinished_order_requests(later, 10_000)
        .await
        .expect("unfinished_order_requests");
    all.into_iter()
        .filter(|r| users.contains(&r.user))
        .collect()
}

fn request(user: &User, key: &IdempotencyKey, product: &Product, n: i32) -> OrderRequest {
    let lines = vec![LineRequest {
        product: product.id,
        quantity: qty(n),
    }];
    OrderRequest::new(user.id, key.clone(), Currency::usd(), lines, ship_to())
}

/// 50 buyers racing for 10 units: exactly 10 get one, 40 are told it is out of stock, and the
/// stock never goes negative on the way.
pub async fn fifty_concurrent_buyers_of_ten_units_leave_exactly_ten_orders(
    store: &dyn CommerceStore,
) {
    let product = stocked_product(store, "race", 500, 10).await;
    let mut buyers = Vec::new();
    for _ in 0..50 {
        buyers.push(create_user(store, "buyer").await);
    }
    let done = AtomicBool::new(false);
    let buying = async {
        let sku = &product.sku;
        let calls = buyers.iter().map(|buyer| {
            let key = unique_key("race");
            async move { place(store, buyer, &key, &[(sku, 1)]).await }
        });
        let results = join_all(calls).await;
        done.store(true, Ordering::SeqCst);
        results
    };
    let watching = async {
        let mut lowest = i64::MAX;
        while !done.load(Ordering::SeqCst) {
            lowest = lowest.min(available(store, product.id).await);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        lowest
    };
    let (results, lowest) = futures::future::join(buying, watching).await;

    let mut orders = Vec::new();
    let mut out_of_stock = 0;
    for result in results {
        match result {
            Ok(order) => orders.push(order),
            Err(PlaceError::OutOfStock(_)) => out_of_stock += 1,
            Err(other) => panic!("a buyer failed with something else than OutOfStock: {other:?}"),
        }
    }
    assert_eq!(orders.len(), 10, "exactly the stock is sold");
    assert_eq!(out_of_stock, 40);
    assert!(lowest >= 0, "available went down to {lowest}");
    assert_eq!(available(store, product.id).await, 0);

    let ids: Vec<OrderId> = orders.iter().map(|o| o.id).collect();
    let stored = store.orders_by_ids(&ids, None).await.unwrap();
    assert_eq!(stored.len(), 10);
    let units: i32 = stored
        .iter()
        .flat_map(|o| &o.lines)
        .map(|l| l.quantity.get())
        .sum();
    assert_eq!(units, 10, "one unit per order");
    let owners: HashSet<UserId> = stored.iter().map(|o| o.user).collect();
    assert_eq!(owners.len(), 10, "one order per winning buyer");
    let everyone: Vec<UserId> = buyers.iter().map(|b| b.id).collect();
    assert!(unfinished_of(store, &everyone).await.is_empty());
}

/// A retry with the same key returns the first order and holds its stock once, also when the
/// two calls race.
pub async fn the_same_key_twice_places_one_order(store: &dyn CommerceStore) {
    let product = stocked_product(store, "twice", 300, 10).await;
    let user = create_user(store, "twice").await;
    let key = unique_key("twice");
    let first = place(store, &user, &key, &[(&product.sku, 2)])
        .await
        .unwrap();
    let again = place(store, &user, &key, &[(&product.sku, 2)])
        .await
        .unwrap();
    assert_eq!(again.id, first.id);
    assert_eq!(normalised(again), normalised(first.clone()));
    assert_eq!(available(store, product.id).await, 8, "held once");

    let racing = unique_key("twice");
    let (a, b) = futures::future::join(
        place(store, &user, &racing, &[(&product.sku, 3)]),
        place(store, &user, &racing, &[(&product.sku, 3)]),
    )
    .await;
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.id, b.id, "racing calls with one key make one order");
    assert_ne!(a.id, first.id);
    assert_eq!(available(store, product.id).await, 5, "held once");

    let history = store
        .order_history(user.id, 10, None, Lines::Load, None)
        .await
        .unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(unfinished_of(store, &[user.id]).await.is_empty());
}

/// The same key with other lines is refused, and the first order is left alone.
pub async fn the_same_key_with_different_lines_is_key_reused(store: &dyn CommerceStore) {
    let product = stocked_product(store, "reuse", 300, 10).await;
    let user = create_user(store, "reuse").await;
    let key = unique_key("reuse");
    let first = place(store, &user, &key, &[(&product.sku, 1)])
        .await
        .unwrap();
    let err = place(store, &user, &key, &[(&product.sku, 2)])
        .await
        .unwrap_err();
    assert!(matches!(err, PlaceError::KeyReused), "got {err:?}");
    assert_eq!(available(store, product.id).await, 9);
    assert_eq!(read_order(store, first.id).await, normalised(first));

    // Keys belong to their user: another buyer may use the same one.
    let other = create_user(store, "reuse").await;
    let theirs = place(store, &other, &key, &[(&product.sku, 2)])
        .await
        .unwrap();
    assert_eq!(theirs.user, other.id);
    assert_eq!(available(store, product.id).await, 7);
}

/// An order naming a SKU that does not exist is refused before anything is held.
pub async fn an_unknown_sku_is_refused(store: &dyn CommerceStore) {
    let product = stocked_product(store, "known", 300, 4).await;
    let user = create_user(store, "unknown").await;
    let missing = unique_sku("missing");
    let key = unique_key("unknown");
    let err = place(store, &user, &key, &[(&product.sku, 1), (&missing, 1)])
        .await
        .unwrap_err();
    match err {
        PlaceError::UnknownSku(sku) => assert_eq!(sku, missing.as_str()),
        other => panic!("expected UnknownSku, got {other:?}"),
    }
    assert_eq!(available(store, product.id).await, 4, "nothing held");
    assert!(
        store
            .order_history(user.id, 10, None, Lines::Load, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(unfinished_of(store, &[user.id]).await.is_empty());
}

/// An order for more than the stock is refused, holds nothing, and a retry with its key gets
/// the same answer even once there is stock again; an order in a currency without a price is
/// refused as such.
pub async fn an_order_beyond_stock_is_refused_and_stays_refused(store: &dyn CommerceStore) {
    let product = stocked_product(store, "beyond", 300, 5).await;
    let user = create_user(store, "beyond").await;
    let key = unique_key("beyond");
    let err = place(store, &user, &key, &[(&product.sku, 6)])
        .await
        .unwrap_err();
    assert!(matches!(err, PlaceError::OutOfStock(_)), "got {err:?}");
    assert_eq!(available(store, product.id).await, 5, "nothing held");

    let warehouse = create_warehouse(store, "more").await;
    add_stock(store, product.id, &warehouse, 5).await;
    let err = place(store, &user, &key, &[(&product.sku, 6)])
        .await
        .unwrap_err();
    assert!(
        matches!(err, PlaceError::OutOfStock(_)),
        "a refused key stays refused: {err:?}"
    );
    assert_eq!(available(store, product.id).await, 10);

    let euros = PlaceOrder {
        user: user.id,
        key: unique_key("beyond"),
        currency: eur(),
        lines: vec![(product.sku.clone(), qty(1))],
        ship_to: ship_to(),
    };
    let err = place_order(store, euros).await.unwrap_err();
    assert!(matches!(err, PlaceError::NoPrice(_)), "got {err:?}");
    assert_eq!(available(store, product.id).await, 10);

    let order = placed(store, &user, &[(&product.sku, 5)]).await;
    assert_eq!(read_order(store, order.id).await.lines[0].quantity.get(), 5);
    assert_eq!(available(store, product.id).await, 5);
    assert!(unfinished_of(store, &[user.id]).await.is_empty());
}

/// An order whose second line (in lock order, by product id) is short is refused whole: the
/// units its first line had already held are given back.
pub async fn a_short_line_gives_back_the_lines_held_before_it(store: &dyn CommerceStore) {
    let one = stocked_product(store, "held-first", 100, 2).await;
    let two = stocked_product(store, "held-first", 100, 2).await;
    let (first, second) = if one.id < two.id {
        (one, two)
    } else {
        (two, one)
    };
    let user = create_user(store, "held-first").await;
    let err = place(
        store,
        &user,
        &unique_key("held-first"),
        &[(&first.sku, 2), (&second.sku, 3)],
    )
    .await
    .unwrap_err();
    match &err {
        PlaceError::OutOfStock(sku) => assert_eq!(sku, second.sku.as_str()),
        other => panic!("expected out of stock, got {other:?}"),
    }
    assert_eq!(
        available(store, first.id).await,
        2,
        "the first line's units are back"
    );
    assert_eq!(available(store, second.id).await, 2);
    let orders = store
        .order_history(user.id, 10, None, Lines::Load, Some(user.id))
        .await
        .expect("order_history");
    assert!(orders.is_empty(), "no order was written: {orders:?}");
    assert!(unfinished_of(store, &[user.id]).await.is_empty());
}

/// `record_order` on a rejected request is a `Conflict` (its stock is then released), and
/// rejecting a placed request changes nothing.
pub async fn record_order_and_reject_order_request_respect_each_other(store: &dyn CommerceStore) {
    let product = stocked_product(store, "steps", 400, 5).await;
    let user = create_user(store, "steps").await;

    let key = unique_key("steps");
    let opened = store
        .open_order_request(&request(&user, &key, &product, 2))
        .await
        .unwrap();
    let Reservation::Held(held) = store
        .reserve_stock(opened.order_id, &opened.currency, &opened.lines)
        .await
        .unwrap()
    else {
        panic!("stock is held")
    };
    store.reject_order_request(user.id, &key).await.unwrap();
    let order = Order::from_reservation(&opened, &held);
    let err = store.record_order(&order, &key).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "got {err:?}");
    assert_eq!(store.release_stock(order.id).await.unwrap(), [product.id]);
    assert_eq!(available(store, product.id).await, 5);
    assert!(
        store
            .orders_by_ids(&[order.id], None)
            .await
            .unwrap()
            .is_empty()
    );
    let err = place(store, &user, &key, &[(&product.sku, 2)])
        .await
        .unwrap_err();
    assert!(matches!(err, PlaceError::OutOfStock(_)), "got {err:?}");

    let key = unique_key("steps");
    let opened = store
        .open_order_request(&request(&user, &key, &product, 1))
        .await
        .unwrap();
    let Reservation::Held(held) = store
        .reserve_stock(opened.order_id, &opened.currency, &opened.lines)
        .await
        .unwrap()
    else {
        panic!("stock is held")
    };
    let order = Order::from_reservation(&opened, &held);
    store.record_order(&order, &key).await.unwrap();
    store
        .record_order(&order, &key)
        .await
        .expect("a repeat is a no-op");
    store.reject_order_request(user.id, &key).await.unwrap();
    let again = place(store, &user, &key, &[(&product.sku, 1)])
        .await
        .expect("still placed");
    assert_eq!(again.id, order.id);
    assert_eq!(read_order(store, order.id).await, normalised(order));
    assert_eq!(available(store, product.id).await, 4);
    assert!(unfinished_of(store, &[user.id]).await.is_empty());
}

/// Cancelling gives the stock back; cancelling again returns the cancelled order and gives
/// nothing back twice.
pub async fn cancelling_gives_the_stock_back_once(store: &dyn CommerceStore) {
    let product = stocked_product(store, "cancel", 300, 5).await;
    let user = create_user(store, "cancel").await;
    let order = placed(store, &user, &[(&product.sku, 3)]).await;
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(available(store, product.id).await, 2);

    let cancelled = cancel_order(store, order.id).await.unwrap();
    assert_eq!(cancelled.id, order.id);
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(
        normalised(cancelled.clone()).lines,
        normalised(order.clone()).lines
    );
    assert_eq!(available(store, product.id).await, 5, "stock is back");
    assert_eq!(
        read_order(store, order.id).await,
        normalised(cancelled.clone())
    );

    let again = cancel_order(store, order.id).await.unwrap();
    assert_eq!(normalised(again), normalised(cancelled));
    assert_eq!(available(store, product.id).await, 5, "released once");
    assert!(store.release_stock(order.id).await.unwrap().is_empty());
    assert!(unfinished_of(store, &[user.id]).await.is_empty());

    let unknown = OrderId::new(user.id.shard());
    assert!(matches!(
        cancel_order(store, unknown).await,
        Err(CancelError::NotFound)
    ));
    assert_eq!(
        store.mark_order_cancelled(unknown).await.unwrap(),
        CancelOutcome::NotFound
    );
}

/// A process that died right after storing the request: the request shows as unfinished (only
/// once old enough), the sweeper places the order, and a retry with the key returns it.
pub async fn a_crash_after_open_is_placed_by_the_sweeper(store: &dyn CommerceStore) {
    let product = stocked_product(store, "open", 700, 5).await;
    let user = create_user(store, "open").await;
    let key = unique_key("open");
    let first = request(&user, &key, &product, 2);
    let opened = store.open_order_request(&first).await.unwrap();
    assert_eq!(opened, first);
    let right_after = store
        .unfinished_order_requests(Utc::now(), 10_000)
        .await
        .unwrap();
    assert!(
        right_after.iter().any(|r| r.order_id == first.order_id),
        "a stored request is older than any later instant, even within its millisecond"
    );
    let retry = request(&user, &key, &product, 2);
    let stored = store.open_order_request(&retry).await.unwrap();
    assert_eq!(stored, first, "a retry gets the stored request");

    let an_hour_ago = Utc::now() - chrono::Duration::hours(1);
    let old = store
        .unfinished_order_requests(an_hour_ago, 10_000)
        .await
        .unwrap();
    assert!(old.iter().all(|r| r.order_id != first.order_id));
    assert_eq!(
        unfinished_of(store, &[user.id]).await,
        std::slice::from_ref(&first)
    );

    let report = sweep(store, Duration::ZERO).await.unwrap();
    assert!(report.placed >= 1, "{report:?}");
    let order = read_order(store, first.order_id).await;
    assert_eq!(order.user, user.id);
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(order.created_at, first.created_at);
    assert_eq!(order.total_minor, 1400);
    assert_eq!(order.lines.len(), 1);
    assert_eq!(order.lines[0].sku, product.sku);
    assert_eq!(available(store, product.id).await, 3);
    assert!(unfinished_of(store, &[user.id]).await.is_empty());

    let again = place(store, &user, &key, &[(&product.sku, 2)])
        .await
        .unwrap();
    assert_eq!(again.id, first.order_id);
    assert_eq!(available(store, product.id).await, 3, "held once");
}

/// A process that died after holding the stock: the sweeper writes the order once, holding the
/// stock once.
pub async fn a_crash_after_reserve_is_placed_once(store: &dyn CommerceStore) {
    let product = stocked_product(store, "reserve", 700, 5).await;
    let user = create_user(store, "reserve").await;
    let key = unique_key("reserve");
    let opened = store
        .open_order_request(&request(&user, &key, &product, 3))
        .await
        .unwrap();
    let held = store
        .reserve_stock(opened.order_id, &opened.currency, &opened.lines)
        .await
        .unwrap();
    assert!(matches!(held, Reservation::Held(_)), "{held:?}");
    assert_eq!(available(store, product.id).await, 2);
    assert_eq!(
        unfinished_of(store, &[user.id]).await[0].state,
        RequestState::Reserving
    );

    let report = sweep(store, Duration::ZERO).await.unwrap();
    assert!(report.placed >= 1, "{report:?}");
    assert_eq!(available(store, product.id).await, 2, "held once");
    let order = read_order(store, opened.order_id).await;
    assert_eq!(order.lines[0].quantity.get(), 3);
    assert_eq!(order.total_minor, 2100);

    sweep(store, Duration::ZERO).await.unwrap();
    let again = place(store, &user, &key, &[(&product.sku, 3)])
        .await
        .unwrap();
    assert_eq!(again.id, opened.order_id);
    assert_eq!(available(store, product.id).await, 2, "held once");
    assert_eq!(
        store
            .order_history(user.id, 10, None, Lines::Load, None)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(unfinished_of(store, &[user.id]).await.is_empty());
}

/// A process that died after marking the order cancelled: the stock stays held until the
/// sweeper releases it, exactly once.
pub async fn a_crash_after_cancel_mark_releases_the_stock_once(store: &dyn CommerceStore) {
    let product = stocked_product(store, "mark", 700, 5).await;
    let user = create_user(store, "mark").await;
    let order = placed(store, &user, &[(&product.sku, 2)]).await;
    assert_eq!(available(store, product.id).await, 3);

    let CancelOutcome::Cancelled(marked) = store.mark_order_cancelled(order.id).await.unwrap()
    else {
        panic!("a pending order can be cancelled")
    };
    assert_eq!(marked.id, order.id);
    assert_eq!(marked.status, OrderStatus::Cancelled);
    assert_eq!(
        read_order(store, order.id).await.status,
        OrderStatus::Cancelled
    );
    assert_eq!(available(store, product.id).await, 3, "not released yet");
    let unfinished = unfinished_of(store, &[user.id]).await;
    assert_eq!(unfinished.len(), 1);
    assert_eq!(unfinished[0].order_id, order.id);
    assert_eq!(unfinished[0].state, RequestState::Releasing);

    let report = sweep(store, Duration::ZERO).await.unwrap();
    assert!(report.released >= 1, "{report:?}");
    assert_eq!(available(store, product.id).await, 5, "released");
    assert!(unfinished_of(store, &[user.id]).await.is_empty());

    sweep(store, Duration::ZERO).await.unwrap();
    let again = cancel_order(store, order.id).await.unwrap();
    assert_eq!(again.status, OrderStatus::Cancelled);
    assert_eq!(available(store, product.id).await, 5, "released once");
    let CancelOutcome::Cancelled(remarked) = store.mark_order_cancelled(order.id).await.unwrap()
    else {
        panic!("a cancelled order is returned again")
    };
    assert_eq!(remarked.status, OrderStatus::Cancelled);
    assert!(unfinished_of(store, &[user.id]).await.is_empty());
}

/// Walking a user's history page by page visits each of their orders once, newest first, and
/// nobody else's; `Lines::Skip` returns the same orders without their lines.
pub async fn order_history_pages_newest_first_without_gaps_or_duplicates(
    store: &dyn CommerceStore,
) {
    let product = stocked_product(store, "history", 100, 100).await;
    let user = create_user(store, "history").await;
    let neighbour = create_user(store, "history").await;
    let mut mine = HashSet::new();
    for n in 1..=5 {
        mine.insert(placed(store, &user, &[(&product.sku, n)]).await.id);
        placed(store, &neighbour, &[(&product.sku, 1)]).await;
    }

    let all = store
        .order_history(user.id, 100, None, Lines::Load, None)
        .await
        .unwrap();
    assert_eq!(all.iter().map(|o| o.id).collect::<HashSet<_>>(), mine);
    assert!(all.iter().all(|o| o.user == user.id && o.lines.len() == 1));
    assert!(
        all.windows(2)
            .all(|w| (w[0].created_at, w[0].id) > (w[1].created_at, w[1].id)),
        "newest first"
    );

    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .order_history(user.id, 2, after, Lines::Load, None)
            .await
            .unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some(OrderCursor {
            created_at: last.created_at,
            id: last.id,
        });
        walked.extend(page);
    }
    let ids = |orders: &[Order]| orders.iter().map(|o| o.id).collect::<Vec<_>>();
    assert_eq!(ids(&walked), ids(&all), "no gaps, no duplicates");

    let bare = store
        .order_history(user.id, 100, None, Lines::Skip, None)
        .await
        .unwrap();
    assert_eq!(ids(&bare), ids(&all), "the same page without lines");
    assert!(bare.iter().all(|o| o.lines.is_empty()), "{bare:?}");
    let totals = |orders: &[Order]| orders.iter().map(|o| o.total_minor).collect::<Vec<_>>();
    assert_eq!(totals(&bare), totals(&all));
    assert_eq!(
        walked.into_iter().map(normalised).collect::<Vec<_>>(),
        all.into_iter().map(normalised).collect::<Vec<_>>()
    );

    let nobody = create_user(store, "history").await;
    assert!(
        store
            .order_history(nobody.id, 10, None, Lines::Load, None)
            .await
            .unwrap()
            .is_empty()
    );
}

/// `orders_by_ids` returns the existing orders asked for, each with all its lines as sold.
pub async fn orders_by_ids_returns_lines(store: &dyn CommerceStore) {
    let mug = stocked_product(store, "mug", 1250, 10).await;
    let pot = stocked_product(store, "pot", 3999, 10).await;
    let user = create_user(store, "lines").await;
    let order = placed(store, &user, &[(&pot.sku, 3), (&mug.sku, 2)]).await;
    let other = placed(store, &user, &[(&mug.sku, 1)]).await;
    assert_eq!(order.total_minor, 2 * 1250 + 3 * 3999);

    let unknown = OrderId::new(user.id.shard());
    let found = store
        .orders_by_ids(&[order.id, unknown, other.id], None)
        .await
        .unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    let found_order = found
        .iter()
        .find(|o| o.id == order.id)
        .cloned()
        .map(normalised)
        .expect("the order is found");
    assert_eq!(found_order, normalised(order));
    let lines: Vec<_> = found_order
        .lines
        .iter()
        .map(|l| (l.product, l.quantity.get(), l.unit_price_minor))
        .collect();
    let mut expected = vec![(mug.id, 2, 1250), (pot.id, 3, 3999)];
    expected.sort_by_key(|(id, ..)| {
        if *id == mug.id {
            mug.sku.clone()
        } else {
            pot.sku.clone()
        }
    });
    assert_eq!(lines, expected);
    assert!(store.orders_by_ids(&[], None).await.unwrap().is_empty());
    assert!(
        store
            .orders_by_ids(&[unknown], None)
            .await
            .unwrap()
            .is_empty()
    );
}
