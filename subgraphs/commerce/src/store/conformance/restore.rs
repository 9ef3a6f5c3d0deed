//! After restoring databases to one moment: stock held for an order whose request its shard does
//! not have (the catalog restored a little later than the shard) is found, and giving it back
//! leaves the counters true.

use super::lifecycle::pending_order;
use super::{available, qty, stocked_product};
use crate::domain::{Currency, LineRequest, Reservation};
use crate::ids::{DEFAULT_SHARD, OrderId};
use crate::store::CommerceStore;

/// Enough to reach this check's order past the ones other checks leave holding stock without a
/// request (they call `reserve_stock` directly).
const LIMIT: u32 = 100_000;

pub async fn stock_held_without_a_request_is_found_and_given_back(store: &dyn CommerceStore) {
    let product = stocked_product(store, "orphan", 300, 5).await;
    let orphan = OrderId::new(DEFAULT_SHARD);
    let line = LineRequest {
        product: product.id,
        quantity: qty(2),
    };
    let held = store
        .reserve_stock(orphan, &Currency::usd(), &[line])
        .await
        .unwrap();
    assert!(matches!(held, Reservation::Held(_)), "{held:?}");
    assert_eq!(available(store, product.id).await, 3);
    let (_, _, placed) = pending_order(store, "kept", 1).await;

    let found = store.stock_held_without_request(LIMIT).await.unwrap();
    assert!(found.contains(&orphan), "{found:?}");
    assert!(
        !found.contains(&placed.id),
        "an order with its request is not an orphan"
    );

    let released = store.release_stock(orphan).await.unwrap();
    assert_eq!(released, vec![product.id]);
    assert_eq!(available(store, product.id).await, 5, "the stock is back");
    let found = store.stock_held_without_request(LIMIT).await.unwrap();
    assert!(
        !found.contains(&orphan),
        "released: no longer holding stock"
    );
    assert!(store.inventory_drift().await.unwrap().is_empty());
}
