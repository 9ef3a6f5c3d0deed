//! Shipping and delivery on the buyer's side: the order's status and its request's saga state.
//! (The stock side, `ship_stock`, is in `catalog.rs`.)

use super::SqliteStore;
use super::orders::{RequestOf, move_request, orders_with_ids};
use crate::domain::{OrderStatus, RequestState, StatusChange};
use crate::ids::OrderId;
use crate::store::{StoreError, from_sqlx};

/// paid → shipped (request placed → shipping), or shipped → delivered. Already there is `Done`.
pub(super) async fn change_status(
    store: &SqliteStore,
    order: OrderId,
    to: OrderStatus,
) -> Result<StatusChange, StoreError> {
    let (from, already): (OrderStatus, &[OrderStatus]) = match to {
        OrderStatus::Shipped => (
            OrderStatus::Paid,
            &[OrderStatus::Shipped, OrderStatus::Delivered],
        ),
        _ => (OrderStatus::Shipped, &[OrderStatus::Delivered]),
    };
    let mut tx = store.write().await?;
    let Some(mut found) = orders_with_ids(&mut tx, &[order]).await?.pop() else {
        return Ok(StatusChange::NotFound);
    };
    if !already.contains(&found.status) {
        if found.status != from {
            return Ok(StatusChange::Refused(found.status));
        }
        sqlx::query("UPDATE orders SET status = ? WHERE id = ?")
            .bind(to.as_str())
            .bind(order.as_i64())
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        if to == OrderStatus::Shipped {
            let which = RequestOf::Order(order);
            move_request(
                &mut tx,
                which,
                Some(RequestState::Placed),
                RequestState::Shipping,
            )
            .await?;
        }
        found.status = to;
    }
    tx.commit().await.map_err(from_sqlx)?;
    Ok(StatusChange::Done(found))
}

pub(super) async fn finish_shipping(store: &SqliteStore, order: OrderId) -> Result<(), StoreError> {
    let mut tx = store.write().await?;
    let which = RequestOf::Order(order);
    move_request(
        &mut tx,
        which,
        Some(RequestState::Shipping),
        RequestState::Shipped,
    )
    .await?;
    tx.commit().await.map_err(from_sqlx)
}
