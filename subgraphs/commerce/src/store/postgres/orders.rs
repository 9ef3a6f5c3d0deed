//! Order queries (the buyer's shard database): the request log, orders and their lines.
//!
//! Non-obvious: every write transaction here starts with [`fence`], which locks the shard's
//! ownership row in share mode. A shard move deletes that row (waiting for writers holding it),
//! so once the move's copy begins no write can land in the old database: it fails with
//! `ShardMoving` and the router retries against the new map.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::{PgConnection, PgPool};

use super::rows;
use crate::domain::{
    CancelOutcome, IdempotencyKey, Lines, Order, OrderCursor, OrderRequest, OrderStatus,
    PostalAddress, RequestState,
};
use crate::ids::{OrderId, UserId, generate};
use crate::store::{StoreError, from_sqlx};

const ORDER_HISTORY: &str =
    include_str!("../../../../../sql/commerce/postgres/queries/order_history.sql");
const ORDERS_BY_IDS: &str =
    include_str!("../../../../../sql/commerce/postgres/queries/orders_by_ids.sql");
const ORDER_LINES: &str =
    include_str!("../../../../../sql/commerce/postgres/queries/order_lines.sql");
const REQUEST_COLUMNS: &str = "user_id, idempotency_key, fingerprint, order_id, order_created_at, \
                               currency, lines, ship_to, state";

/// Fails with `ShardMoving` unless this database owns `shard`; holds the ownership row in share
/// mode until the transaction ends.
pub async fn fence(conn: &mut PgConnection, shard: u16) -> Result<(), StoreError> {
    let owned: Option<i16> = sqlx::query_scalar(
        "SELECT logical_shard FROM shard_ownership WHERE logical_shard = $1 FOR SHARE",
    )
    .bind(shard as i16)
    .fetch_optional(conn)
    .await
    .map_err(from_sqlx)?;
    owned.map(drop).ok_or(StoreError::ShardMoving(shard))
}

pub async fn open_request(
    pool: &PgPool,
    request: &OrderRequest,
) -> Result<OrderRequest, StoreError> {
    let mut tx = pool.begin().await.map_err(from_sqlx)?;
    fence(&mut tx, request.user.shard()).await?;
    let lines =
        serde_json::to_value(&request.lines).map_err(|e| StoreError::Other(e.to_string()))?;
    let inserted = sqlx::query(
        "INSERT INTO order_requests (user_id, idempotency_key, fingerprint, order_id,
                                     order_created_at, currency, lines, state, ship_to)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (user_id, idempotency_key) DO NOTHING
         RETURNING user_id",
    )
    .bind(request.user.as_i64())
    .bind(request.key.as_str())
    .bind(&request.fingerprint)
    .bind(request.order_id.as_i64())
    .bind(request.created_at)
    .bind(request.currency.as_str())
    .bind(lines)
    .bind(request.state.as_str())
    .bind(request.ship_to.as_ref().map(PostalAddress::to_json))
    .fetch_optional(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    if inserted.is_some() {
        tx.commit().await.map_err(from_sqlx)?;
        return Ok(request.clone());
    }
    // The key was used before: the earlier request is the answer.
    let stored = sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM order_requests WHERE user_id = $1 AND idempotency_key = $2"
    ))
    .bind(request.user.as_i64())
    .bind(request.key.as_str())
    .fetch_one(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)?;
    rows::order_request(&stored)
}

/// The request's state, locked for the rest of the transaction.
async fn locked_state(
    conn: &mut PgConnection,
    user: UserId,
    key: &IdempotencyKey,
) -> Result<Option<RequestState>, StoreError> {
    let state: Option<String> = sqlx::query_scalar(
        "SELECT state FROM order_requests WHERE user_id = $1 AND idempotency_key = $2 FOR UPDATE",
    )
    .bind(user.as_i64())
    .bind(key.as_str())
    .fetch_optional(conn)
    .await
    .map_err(from_sqlx)?;
    state
        .map(|s| RequestState::parse(&s).ok_or_else(|| crate::store::corrupt(format!("state {s}"))))
        .transpose()
}

pub async fn record(pool: &PgPool, order: &Order, key: &IdempotencyKey) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(from_sqlx)?;
    fence(&mut tx, order.user.shard()).await?;
    match locked_state(&mut tx, order.user, key).await? {
        Some(RequestState::Reserving) => {}
        Some(RequestState::Rejected) => {
            return Err(StoreError::Conflict(
                "the order request was rejected".into(),
            ));
        }
        Some(_) => return Ok(()),
        None => {
            return Err(StoreError::Other(format!(
                "no request for order {}",
                order.id
            )));
        }
    }
    let ship_to = order
        .ship_to
        .as_ref()
        .ok_or_else(|| StoreError::Other(format!("order {} has no address", order.id)))?;
    sqlx::query(
        "INSERT INTO orders (id, user_id, status, currency, total_minor, ship_to, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(order.id.as_i64())
    .bind(order.user.as_i64())
    .bind(order.status.as_str())
    .bind(order.currency.as_str())
    .bind(order.total_minor)
    .bind(ship_to.to_json())
    .bind(order.created_at)
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    let shard = order.id.shard();
    let ids: Vec<i64> = order.lines.iter().map(|_| generate(shard)).collect();
    let products: Vec<i64> = order.lines.iter().map(|l| l.product.as_i64()).collect();
    let skus: Vec<&str> = order.lines.iter().map(|l| l.sku.as_str()).collect();
    let quantities: Vec<i32> = order.lines.iter().map(|l| l.quantity.get()).collect();
    let prices: Vec<i64> = order.lines.iter().map(|l| l.unit_price_minor).collect();
    sqlx::query(
        "INSERT INTO order_items (id, order_id, created_at, product_id, sku, quantity,
                                  unit_price_minor, currency)
         SELECT id, $2, $3, product_id, sku, quantity, price, $4
         FROM unnest($1::BIGINT[], $5::BIGINT[], $6::TEXT[], $7::INT[], $8::BIGINT[])
              AS l(id, product_id, sku, quantity, price)",
    )
    .bind(&ids)
    .bind(order.id.as_i64())
    .bind(order.created_at)
    .bind(order.currency.as_str())
    .bind(&products)
    .bind(&skus)
    .bind(&quantities)
    .bind(&prices)
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    set_state(&mut tx, order.user, key, RequestState::Placed).await?;
    tx.commit().await.map_err(from_sqlx)
}

pub(super) async fn set_state(
    conn: &mut PgConnection,
    user: UserId,
    key: &IdempotencyKey,
    state: RequestState,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE order_requests SET state = $3, updated_at = now()
         WHERE user_id = $1 AND idempotency_key = $2",
    )
    .bind(user.as_i64())
    .bind(key.as_str())
    .bind(state.as_str())
    .execute(conn)
    .await
    .map(drop)
    .map_err(from_sqlx)
}

pub async fn reject(pool: &PgPool, user: UserId, key: &IdempotencyKey) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(from_sqlx)?;
    fence(&mut tx, user.shard()).await?;
    if locked_state(&mut tx, user, key).await? == Some(RequestState::Reserving) {
        set_state(&mut tx, user, key, RequestState::Rejected).await?;
    }
    tx.commit().await.map_err(from_sqlx)
}

/// The order (without its lines), its row locked for the rest of the transaction: every status
/// change and every payment of an order starts here, so they take turns.
pub(super) async fn locked_order(
    conn: &mut PgConnection,
    order: OrderId,
) -> Result<Option<Order>, StoreError> {
    let found = sqlx::query(&format!("{ORDERS_BY_IDS} FOR UPDATE"))
        .bind(vec![order.as_i64()])
        .bind(vec![order.created_at()])
        .fetch_optional(conn)
        .await
        .map_err(from_sqlx)?;
    found.as_ref().map(rows::order_head).transpose()
}

pub async fn mark_cancelled(pool: &PgPool, order: OrderId) -> Result<CancelOutcome, StoreError> {
    let mut tx = pool.begin().await.map_err(from_sqlx)?;
    fence(&mut tx, order.shard()).await?;
    let Some(mut head) = locked_order(&mut tx, order).await? else {
        return Ok(CancelOutcome::NotFound);
    };
    if head.status != OrderStatus::Cancelled {
        if !head.status.cancellable() {
            return Ok(CancelOutcome::NotCancellable(head.status));
        }
        // The order row is locked, and paying locks it too: no payment can start meanwhile.
        let paying: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM payments
                            WHERE order_id = $1 AND status IN ('pending', 'authorized'))",
        )
        .bind(order.as_i64())
        .fetch_one(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        if paying {
            return Ok(CancelOutcome::PaymentInProgress);
        }
        set_order_status(&mut tx, &head, OrderStatus::Cancelled).await?;
        set_state_of_order(
            &mut tx,
            order,
            RequestState::Placed,
            RequestState::Releasing,
        )
        .await?;
        head.status = OrderStatus::Cancelled;
    }
    let mut orders = with_lines(&mut tx, vec![head]).await?;
    tx.commit().await.map_err(from_sqlx)?;
    Ok(CancelOutcome::Cancelled(orders.remove(0)))
}

pub async fn finish_cancellation(pool: &PgPool, order: OrderId) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(from_sqlx)?;
    fence(&mut tx, order.shard()).await?;
    set_state_of_order(
        &mut tx,
        order,
        RequestState::Releasing,
        RequestState::Cancelled,
    )
    .await?;
    tx.commit().await.map_err(from_sqlx)
}

pub async fn unfinished(
    pool: &PgPool,
    older_than: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<OrderRequest>, StoreError> {
    let found = sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM order_requests
         WHERE state IN ('reserving', 'releasing', 'shipping') AND updated_at < $1
         ORDER BY updated_at LIMIT $2"
    ))
    .bind(older_than)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    found.iter().map(rows::order_request).collect()
}

pub async fn by_ids(pool: &PgPool, ids: &[OrderId]) -> Result<Vec<Order>, StoreError> {
    let raw: Vec<i64> = ids.iter().map(|id| id.as_i64()).collect();
    let months: Vec<DateTime<Utc>> = ids.iter().map(|id| id.created_at()).collect();
    let mut conn = pool.acquire().await.map_err(from_sqlx)?;
    let heads = sqlx::query(ORDERS_BY_IDS)
        .bind(&raw)
        .bind(&months)
        .fetch_all(&mut *conn)
        .await
        .map_err(from_sqlx)?;
    let heads = heads
        .iter()
        .map(rows::order_head)
        .collect::<Result<_, _>>()?;
    with_lines(&mut conn, heads).await
}

/// The first page starts after this cursor: later than any order.
fn before_everything() -> OrderCursor {
    OrderCursor {
        created_at: Utc
            .with_ymd_and_hms(9999, 12, 31, 0, 0, 0)
            .single()
            .expect("valid date"),
        id: OrderId::from_i64(i64::MAX).expect("positive"),
    }
}

pub async fn history(
    pool: &PgPool,
    user: UserId,
    first: u32,
    after: Option<OrderCursor>,
    lines: Lines,
) -> Result<Vec<Order>, StoreError> {
    let after = after.unwrap_or_else(before_everything);
    let mut conn = pool.acquire().await.map_err(from_sqlx)?;
    let heads = sqlx::query(ORDER_HISTORY)
        .bind(user.as_i64())
        .bind(after.created_at)
        .bind(after.id.as_i64())
        .bind(i64::from(first))
        .fetch_all(&mut *conn)
        .await
        .map_err(from_sqlx)?;
    let heads = heads
        .iter()
        .map(rows::order_head)
        .collect::<Result<_, _>>()?;
    match lines {
        Lines::Load => with_lines(&mut conn, heads).await,
        Lines::Skip => Ok(heads),
    }
}

/// Fills in the lines of `orders` with one query.
pub(super) async fn with_lines(
    conn: &mut PgConnection,
    mut orders: Vec<Order>,
) -> Result<Vec<Order>, StoreError> {
    if orders.is_empty() {
        return Ok(orders);
    }
    let ids: Vec<i64> = orders.iter().map(|o| o.id.as_i64()).collect();
    let created: Vec<DateTime<Utc>> = orders.iter().map(|o| o.created_at).collect();
    let found = sqlx::query(ORDER_LINES)
        .bind(&ids)
        .bind(&created)
        .fetch_all(conn)
        .await
        .map_err(from_sqlx)?;
    let mut lines: HashMap<OrderId, Vec<_>> = HashMap::new();
    for row in &found {
        let (order, line) = rows::order_line(row)?;
        lines.entry(order).or_default().push(line);
    }
    for order in &mut orders {
        order.lines = lines.remove(&order.id).unwrap_or_default();
    }
    Ok(orders)
}

/// Sets the status of a locked order row.
pub(super) async fn set_order_status(
    conn: &mut PgConnection,
    order: &Order,
    status: OrderStatus,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE orders SET status = $3 WHERE id = $1 AND created_at = $2")
        .bind(order.id.as_i64())
        .bind(order.created_at)
        .bind(status.as_str())
        .execute(conn)
        .await
        .map(drop)
        .map_err(from_sqlx)
}

/// Moves the request of `order` from `from` to `to`; no change when it is elsewhere.
pub(super) async fn set_state_of_order(
    conn: &mut PgConnection,
    order: OrderId,
    from: RequestState,
    to: RequestState,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE order_requests SET state = $3, updated_at = now()
         WHERE order_id = $1 AND state = $2",
    )
    .bind(order.as_i64())
    .bind(from.as_str())
    .bind(to.as_str())
    .execute(conn)
    .await
    .map(drop)
    .map_err(from_sqlx)
}
