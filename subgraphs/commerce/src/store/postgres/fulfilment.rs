//! Shipping and delivery: the order's status on its shard, and the stock that leaves the
//! warehouse in the catalog database.
//!
//! Non-obvious: shipping is a saga like cancelling. The shard step marks the order shipped and
//! its request `shipping` in one transaction; the catalog step turns the order's held
//! reservations into shipped ones and lowers `on_hand` and `reserved` together, so `available`
//! does not move and `reserved` stays the total of the held reservations at every commit; the
//! last step marks the request `shipped`. A crash in between leaves `shipping`, which the sweeper
//! finishes.

use chrono::Utc;
use sqlx::PgPool;

use super::orders::{fence, locked_order, set_order_status, set_state_of_order, with_lines};
use super::rows;
use crate::domain::{OrderStatus, RequestState, StatusChange};
use crate::ids::{OrderId, ProductId};
use crate::store::{StoreError, from_sqlx};

/// Shard step 1 of shipping: paid → shipped, request placed → shipping. An order already
/// shipped (or delivered) is `Done` again, so a retry carries on with the catalog step.
pub async fn mark_shipping(pool: &PgPool, order: OrderId) -> Result<StatusChange, StoreError> {
    change_status(pool, order, OrderStatus::Shipped).await
}

/// Shard step 3 of shipping: the request is finished.
pub async fn finish_shipping(pool: &PgPool, order: OrderId) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(from_sqlx)?;
    fence(&mut tx, order.shard()).await?;
    set_state_of_order(
        &mut tx,
        order,
        RequestState::Shipping,
        RequestState::Shipped,
    )
    .await?;
    tx.commit().await.map_err(from_sqlx)
}

/// shipped → delivered; delivered again is `Done`.
pub async fn mark_delivered(pool: &PgPool, order: OrderId) -> Result<StatusChange, StoreError> {
    change_status(pool, order, OrderStatus::Delivered).await
}

async fn change_status(
    pool: &PgPool,
    order: OrderId,
    to: OrderStatus,
) -> Result<StatusChange, StoreError> {
    let (from, already) = match to {
        OrderStatus::Shipped => (
            OrderStatus::Paid,
            [OrderStatus::Shipped, OrderStatus::Delivered],
        ),
        _ => (
            OrderStatus::Shipped,
            [OrderStatus::Delivered, OrderStatus::Delivered],
        ),
    };
    let mut tx = pool.begin().await.map_err(from_sqlx)?;
    fence(&mut tx, order.shard()).await?;
    let Some(mut head) = locked_order(&mut tx, order).await? else {
        return Ok(StatusChange::NotFound);
    };
    if !already.contains(&head.status) {
        if head.status != from {
            return Ok(StatusChange::Refused(head.status));
        }
        set_order_status(&mut tx, &head, to).await?;
        if to == OrderStatus::Shipped {
            set_state_of_order(&mut tx, order, RequestState::Placed, RequestState::Shipping)
                .await?;
        }
        head.status = to;
    }
    let mut orders = with_lines(&mut tx, vec![head]).await?;
    tx.commit().await.map_err(from_sqlx)?;
    Ok(StatusChange::Done(orders.remove(0)))
}

/// Catalog step 2 of shipping: every held reservation of `order` becomes shipped, and its
/// units leave `on_hand` and `reserved` together. A repeat finds nothing held and changes
/// nothing. Returns the products whose stock moved.
pub async fn ship_stock(pool: &PgPool, order: OrderId) -> Result<Vec<ProductId>, StoreError> {
    let mut tx = pool.begin().await.map_err(from_sqlx)?;
    // Product-id order, the order placing locks stock in, so shipping never deadlocks with it.
    let shipped = sqlx::query(
        "UPDATE stock_reservations SET state = 'shipped', settled_at = now()
         WHERE order_id = $1 AND state = 'held'
         RETURNING product_id, warehouse_id, quantity",
    )
    .bind(order.as_i64())
    .fetch_all(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    let mut moved: Vec<(i64, i64, i32)> = shipped
        .iter()
        .map(|row| {
            Ok((
                rows::get(row, "product_id")?,
                rows::get(row, "warehouse_id")?,
                rows::get(row, "quantity")?,
            ))
        })
        .collect::<Result<_, StoreError>>()?;
    moved.sort_unstable();
    let mut products = Vec::with_capacity(moved.len());
    for (product, warehouse, quantity) in moved {
        sqlx::query(
            "UPDATE inventory
             SET on_hand = on_hand - $3, reserved = reserved - $3, updated_at = $4
             WHERE product_id = $1 AND warehouse_id = $2",
        )
        .bind(product)
        .bind(warehouse)
        .bind(i64::from(quantity))
        .bind(Utc::now())
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        products.push(rows::product_id(product)?);
    }
    tx.commit().await.map_err(from_sqlx)?;
    Ok(products)
}
