//! Orders: the request log that makes placing and cancelling resumable, the orders and their
//! lines, and the reads (by id, and a user's history).
//!
//! Non-obvious: every state change of a request sets `updated_at`, which is what the sweeper's
//! "unfinished since before" compares. The stored value is whole milliseconds while the cutoff
//! may carry a fraction, so the comparison rounds the cutoff up rather than down: a request
//! written at 12.000 is before a cutoff of 12.400.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::{SqliteStore, json_array, now_ms, time_from_ms};
use crate::domain::{
    ArchiveReport, CancelOutcome, Currency, IdempotencyKey, LineRequest, Lines, Order, OrderCursor,
    OrderLine, OrderRequest, OrderStatus, PostalAddress, Quantity, RequestState, Sku,
};
use crate::ids::{OrderId, ProductId, UserId, generate};
use crate::store::{StoreError, corrupt, from_sqlx};

const REQUEST_COLUMNS: &str = "user_id, idempotency_key, fingerprint, order_id, order_created_at, \
                               currency, lines, ship_to, state";
pub(super) const ORDER_COLUMNS: &str =
    "id, user_id, status, currency, total_minor, ship_to, created_at";
const LINE_COLUMNS: &str = "order_id, product_id, sku, quantity, unit_price_minor";

/// A request line as stored in the `lines` JSON (the serde form of [`LineRequest`]), read raw so
/// that it is checked by the domain constructors like any other column.
#[derive(Deserialize)]
struct StoredLine {
    product: i64,
    quantity: i32,
}

fn request_from_row(row: &SqliteRow) -> Result<OrderRequest, StoreError> {
    let user: i64 = row.try_get("user_id").map_err(from_sqlx)?;
    let key: String = row.try_get("idempotency_key").map_err(from_sqlx)?;
    let order: i64 = row.try_get("order_id").map_err(from_sqlx)?;
    let currency: String = row.try_get("currency").map_err(from_sqlx)?;
    let lines: String = row.try_get("lines").map_err(from_sqlx)?;
    let state: String = row.try_get("state").map_err(from_sqlx)?;
    let lines: Vec<StoredLine> = serde_json::from_str(&lines)
        .map_err(|e| corrupt(format!("lines of order request {order}: {e}")))?;
    let lines = lines
        .into_iter()
        .map(|line| {
            Ok(LineRequest {
                product: ProductId::from_i64(line.product)
                    .ok_or_else(|| corrupt(format!("requested product id {}", line.product)))?,
                quantity: Quantity::new(line.quantity, "quantity").map_err(corrupt)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(OrderRequest {
        user: UserId::from_i64(user).ok_or_else(|| corrupt(format!("request user id {user}")))?,
        key: IdempotencyKey::parse(&key).map_err(corrupt)?,
        fingerprint: row.try_get("fingerprint").map_err(from_sqlx)?,
        order_id: OrderId::from_i64(order)
            .ok_or_else(|| corrupt(format!("request order id {order}")))?,
        created_at: time_from_ms(
            row.try_get("order_created_at").map_err(from_sqlx)?,
            "order_created_at",
        )?,
        currency: Currency::parse(&currency).map_err(corrupt)?,
        lines,
        ship_to: ship_to_from_row(row)?,
        state: RequestState::parse(&state)
            .ok_or_else(|| corrupt(format!("request state {state:?}")))?,
    })
}

/// The `ship_to` column: an address snapshot as JSON text; `{}` and NULL (rows from before
/// addresses) are `None`.
fn ship_to_from_row(row: &SqliteRow) -> Result<Option<PostalAddress>, StoreError> {
    let stored: Option<String> = row.try_get("ship_to").map_err(from_sqlx)?;
    let Some(text) = stored else {
        return Ok(None);
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| corrupt(format!("ship_to: {e}")))?;
    if value.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(None);
    }
    PostalAddress::from_json(value)
        .map(Some)
        .map_err(|e| corrupt(format!("ship_to: {e}")))
}

/// `address` as the JSON text the `ship_to` columns hold.
fn ship_to_text(address: Option<&PostalAddress>) -> Option<String> {
    address.map(|a| a.to_json().to_string())
}

pub(super) fn order_from_row(row: &SqliteRow, lines: Vec<OrderLine>) -> Result<Order, StoreError> {
    let id: i64 = row.try_get("id").map_err(from_sqlx)?;
    let user: i64 = row.try_get("user_id").map_err(from_sqlx)?;
    let status: String = row.try_get("status").map_err(from_sqlx)?;
    let currency: String = row.try_get("currency").map_err(from_sqlx)?;
    let total_minor: i64 = row.try_get("total_minor").map_err(from_sqlx)?;
    if total_minor < 0 {
        return Err(corrupt(format!("total {total_minor} of order {id}")));
    }
    Ok(Order {
        id: OrderId::from_i64(id).ok_or_else(|| corrupt(format!("order id {id}")))?,
        user: UserId::from_i64(user).ok_or_else(|| corrupt(format!("order user id {user}")))?,
        status: OrderStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("order status {status:?}")))?,
        currency: Currency::parse(&currency).map_err(corrupt)?,
        total_minor,
        lines,
        ship_to: ship_to_from_row(row)?,
        created_at: time_from_ms(row.try_get("created_at").map_err(from_sqlx)?, "created_at")?,
    })
}

fn line_from_row(row: &SqliteRow) -> Result<OrderLine, StoreError> {
    let product: i64 = row.try_get("product_id").map_err(from_sqlx)?;
    let sku: String = row.try_get("sku").map_err(from_sqlx)?;
    let quantity: i32 = row.try_get("quantity").map_err(from_sqlx)?;
    let unit_price_minor: i64 = row.try_get("unit_price_minor").map_err(from_sqlx)?;
    if unit_price_minor < 0 {
        return Err(corrupt(format!("unit price {unit_price_minor}")));
    }
    Ok(OrderLine {
        product: ProductId::from_i64(product)
            .ok_or_else(|| corrupt(format!("order line product id {product}")))?,
        sku: Sku::parse(&sku).map_err(corrupt)?,
        quantity: Quantity::new(quantity, "quantity").map_err(corrupt)?,
        unit_price_minor,
    })
}

/// The orders with the given ids (with their lines, by SKU), as `order_rows` listed them.
async fn with_lines(
    conn: &mut SqliteConnection,
    order_rows: &[SqliteRow],
) -> Result<Vec<Order>, StoreError> {
    if order_rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids = order_rows
        .iter()
        .map(|row| row.try_get::<i64, _>("id").map_err(from_sqlx))
        .collect::<Result<Vec<i64>, _>>()?;
    let sql = format!(
        "SELECT {LINE_COLUMNS} FROM order_items
         WHERE order_id IN (SELECT value FROM json_each(?)) ORDER BY order_id, sku"
    );
    let line_rows = sqlx::query(&sql)
        .bind(json_array(&ids)?)
        .fetch_all(&mut *conn)
        .await
        .map_err(from_sqlx)?;
    let mut lines: HashMap<i64, Vec<OrderLine>> = HashMap::with_capacity(ids.len());
    for row in &line_rows {
        let order: i64 = row.try_get("order_id").map_err(from_sqlx)?;
        lines.entry(order).or_default().push(line_from_row(row)?);
    }
    order_rows
        .iter()
        .zip(&ids)
        .map(|(row, id)| order_from_row(row, lines.remove(id).unwrap_or_default()))
        .collect()
}

pub(super) async fn orders_with_ids(
    conn: &mut SqliteConnection,
    ids: &[OrderId],
) -> Result<Vec<Order>, StoreError> {
    let sql =
        format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id IN (SELECT value FROM json_each(?))");
    let rows = sqlx::query(&sql)
        .bind(json_array(ids.iter().map(|id| id.as_i64()))?)
        .fetch_all(&mut *conn)
        .await
        .map_err(from_sqlx)?;
    with_lines(conn, &rows).await
}

pub(super) async fn open_order_request(
    store: &SqliteStore,
    request: &OrderRequest,
) -> Result<OrderRequest, StoreError> {
    let lines = json_array(&request.lines)?;
    let mut tx = store.write().await?;
    sqlx::query(
        "INSERT INTO order_requests (user_id, idempotency_key, fingerprint, order_id,
                                     order_created_at, currency, lines, state, updated_at,
                                     ship_to)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_id, idempotency_key) DO NOTHING",
    )
    .bind(request.user.as_i64())
    .bind(request.key.as_str())
    .bind(&request.fingerprint)
    .bind(request.order_id.as_i64())
    .bind(request.created_at.timestamp_millis())
    .bind(request.currency.as_str())
    .bind(&lines)
    .bind(request.state.as_str())
    .bind(now_ms())
    .bind(ship_to_text(request.ship_to.as_ref()))
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM order_requests WHERE user_id = ? AND idempotency_key = ?"
    );
    let stored = sqlx::query(&sql)
        .bind(request.user.as_i64())
        .bind(request.key.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)?;
    request_from_row(&stored)
}

pub(super) async fn record_order(
    store: &SqliteStore,
    order: &Order,
    key: &IdempotencyKey,
) -> Result<(), StoreError> {
    let mut tx = store.write().await?;
    let request = sqlx::query(
        "SELECT order_id, state FROM order_requests WHERE user_id = ? AND idempotency_key = ?",
    )
    .bind(order.user.as_i64())
    .bind(key.as_str())
    .fetch_optional(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .ok_or_else(|| StoreError::Other(format!("order {} has no request under its key", order.id)))?;
    let requested: i64 = request.try_get("order_id").map_err(from_sqlx)?;
    let state: String = request.try_get("state").map_err(from_sqlx)?;
    if requested != order.id.as_i64() {
        return Err(StoreError::Other(format!(
            "the key of order {} was used for order {requested}",
            order.id
        )));
    }
    match RequestState::parse(&state).ok_or_else(|| corrupt(format!("request state {state:?}")))? {
        RequestState::Placed
        | RequestState::Releasing
        | RequestState::Cancelled
        | RequestState::Shipping
        | RequestState::Shipped => {
            tx.rollback().await.map_err(from_sqlx)?;
            return Ok(());
        }
        RequestState::Rejected => {
            tx.rollback().await.map_err(from_sqlx)?;
            return Err(StoreError::Conflict(format!(
                "the request for order {} was rejected",
                order.id
            )));
        }
        RequestState::Reserving => {}
    }

    let created_at = order.created_at.timestamp_millis();
    let ship_to = ship_to_text(order.ship_to.as_ref())
        .ok_or_else(|| StoreError::Other(format!("order {} has no address", order.id)))?;
    sqlx::query(
        "INSERT INTO orders (id, user_id, status, currency, total_minor, ship_to, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(order.id.as_i64())
    .bind(order.user.as_i64())
    .bind(order.status.as_str())
    .bind(order.currency.as_str())
    .bind(order.total_minor)
    .bind(ship_to)
    .bind(created_at)
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    for line in &order.lines {
        sqlx::query(
            "INSERT INTO order_items (id, order_id, created_at, product_id, sku, quantity,
                                      unit_price_minor, currency)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(generate(order.id.shard()))
        .bind(order.id.as_i64())
        .bind(created_at)
        .bind(line.product.as_i64())
        .bind(line.sku.as_str())
        .bind(line.quantity.get())
        .bind(line.unit_price_minor)
        .bind(order.currency.as_str())
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    }
    let which = RequestOf::Key(order.user, key);
    move_request(&mut tx, which, None, RequestState::Placed).await?;
    tx.commit().await.map_err(from_sqlx)
}

/// Which order request a state change is for.
pub(super) enum RequestOf<'a> {
    Key(UserId, &'a IdempotencyKey),
    Order(OrderId),
}

/// Moves the request to `to` (only if it is in state `from`, when given), stamping `updated_at`.
pub(super) async fn move_request(
    conn: &mut SqliteConnection,
    which: RequestOf<'_>,
    from: Option<RequestState>,
    to: RequestState,
) -> Result<(), StoreError> {
    let filter = match which {
        RequestOf::Key(..) => "user_id = ?4 AND idempotency_key = ?5",
        RequestOf::Order(_) => "order_id = ?4",
    };
    let sql = format!(
        "UPDATE order_requests SET state = ?1, updated_at = ?2
         WHERE (?3 IS NULL OR state = ?3) AND {filter}"
    );
    let query = sqlx::query(&sql)
        .bind(to.as_str())
        .bind(now_ms())
        .bind(from.map(RequestState::as_str));
    let query = match which {
        RequestOf::Key(user, key) => query.bind(user.as_i64()).bind(key.as_str()),
        RequestOf::Order(order) => query.bind(order.as_i64()),
    };
    query.execute(&mut *conn).await.map(drop).map_err(from_sqlx)
}

pub(super) async fn reject_order_request(
    store: &SqliteStore,
    user: UserId,
    key: &IdempotencyKey,
) -> Result<(), StoreError> {
    let mut tx = store.write().await?;
    let (from, to) = (Some(RequestState::Reserving), RequestState::Rejected);
    move_request(&mut tx, RequestOf::Key(user, key), from, to).await?;
    tx.commit().await.map_err(from_sqlx)
}

pub(super) async fn mark_order_cancelled(
    store: &SqliteStore,
    order: OrderId,
) -> Result<CancelOutcome, StoreError> {
    let mut tx = store.write().await?;
    let Some(mut found) = orders_with_ids(&mut tx, &[order]).await?.pop() else {
        tx.rollback().await.map_err(from_sqlx)?;
        return Ok(CancelOutcome::NotFound);
    };
    match found.status {
        OrderStatus::Cancelled => {
            tx.rollback().await.map_err(from_sqlx)?;
            return Ok(CancelOutcome::Cancelled(found));
        }
        status if !status.cancellable() => {
            tx.rollback().await.map_err(from_sqlx)?;
            return Ok(CancelOutcome::NotCancellable(status));
        }
        _ => {}
    }
    let paying: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM payments
                        WHERE order_id = ? AND status IN ('pending', 'authorized'))",
    )
    .bind(order.as_i64())
    .fetch_one(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    if paying {
        tx.rollback().await.map_err(from_sqlx)?;
        return Ok(CancelOutcome::PaymentInProgress);
    }
    sqlx::query("UPDATE orders SET status = ? WHERE id = ?")
        .bind(OrderStatus::Cancelled.as_str())
        .bind(order.as_i64())
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    let (from, to) = (Some(RequestState::Placed), RequestState::Releasing);
    move_request(&mut tx, RequestOf::Order(order), from, to).await?;
    tx.commit().await.map_err(from_sqlx)?;
    found.status = OrderStatus::Cancelled;
    Ok(CancelOutcome::Cancelled(found))
}

pub(super) async fn finish_cancellation(
    store: &SqliteStore,
    order: OrderId,
) -> Result<(), StoreError> {
    let mut tx = store.write().await?;
    let (from, to) = (Some(RequestState::Releasing), RequestState::Cancelled);
    move_request(&mut tx, RequestOf::Order(order), from, to).await?;
    tx.commit().await.map_err(from_sqlx)
}

pub(super) async fn unfinished_order_requests(
    store: &SqliteStore,
    older_than: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<OrderRequest>, StoreError> {
    // `updated_at < older_than` on whole milliseconds: round a fractional cutoff up.
    let whole_ms = older_than.timestamp_millis();
    let fractional = !older_than
        .timestamp_subsec_nanos()
        .is_multiple_of(1_000_000);
    let cutoff = whole_ms + i64::from(fractional);
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM order_requests
         WHERE state IN ('reserving', 'releasing', 'shipping') AND updated_at < ?
         ORDER BY updated_at, order_id LIMIT ?"
    );
    let rows = sqlx::query(&sql)
        .bind(cutoff)
        .bind(i64::from(limit))
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    rows.iter().map(request_from_row).collect()
}

pub(super) async fn orders_by_ids(
    store: &SqliteStore,
    ids: &[OrderId],
) -> Result<Vec<Order>, StoreError> {
    let mut conn = store.pool.acquire().await.map_err(from_sqlx)?;
    orders_with_ids(&mut conn, ids).await
}

pub(super) async fn order_history(
    store: &SqliteStore,
    user: UserId,
    first: u32,
    after: Option<OrderCursor>,
    lines: Lines,
) -> Result<Vec<Order>, StoreError> {
    let (after_ms, after_id) = after.map_or((i64::MAX, i64::MAX), |cursor| {
        (cursor.created_at.timestamp_millis(), cursor.id.as_i64())
    });
    let mut conn = store.pool.acquire().await.map_err(from_sqlx)?;
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders
         WHERE user_id = ? AND (created_at, id) < (?, ?)
         ORDER BY created_at DESC, id DESC LIMIT ?"
    );
    let rows = sqlx::query(&sql)
        .bind(user.as_i64())
        .bind(after_ms)
        .bind(after_id)
        .bind(i64::from(first))
        .fetch_all(&mut *conn)
        .await
        .map_err(from_sqlx)?;
    match lines {
        Lines::Load => with_lines(&mut conn, &rows).await,
        Lines::Skip => rows
            .iter()
            .map(|row| order_from_row(row, Vec::new()))
            .collect(),
    }
}

/// Moves settled requests and reservations, and final payments, of orders placed before
/// `orders_before` to the archives, up to `batch` of each, in one transaction.
pub(super) async fn archive_settled(
    store: &SqliteStore,
    orders_before: DateTime<Utc>,
    as_of: DateTime<Utc>,
    batch: u32,
) -> Result<ArchiveReport, StoreError> {
    let boundary = crate::ids::first_id_at(orders_before);
    let (batch, archived_at) = (i64::from(batch), as_of.timestamp_millis());
    let mut tx = store.write().await?;
    let picked = "SELECT rowid FROM order_requests
                  WHERE order_id < ?1 AND state IN ('rejected', 'cancelled', 'shipped')
                  ORDER BY order_id LIMIT ?2";
    let requests = sqlx::query(&format!(
        "INSERT INTO order_requests_archive (user_id, idempotency_key, fingerprint, order_id,
                                            order_created_at, currency, lines, ship_to, state,
                                            updated_at, archived_at)
         SELECT user_id, idempotency_key, fingerprint, order_id, order_created_at, currency,
                lines, ship_to, state, updated_at, ?3
         FROM order_requests WHERE rowid IN ({picked})"
    ))
    .bind(boundary)
    .bind(batch)
    .bind(archived_at)
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .rows_affected();
    sqlx::query(&format!(
        "DELETE FROM order_requests WHERE rowid IN ({picked})"
    ))
    .bind(boundary)
    .bind(batch)
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    let picked = "SELECT rowid FROM stock_reservations
                  WHERE order_id < ?1 AND state IN ('released', 'shipped')
                  ORDER BY order_id LIMIT ?2";
    let reservations = sqlx::query(&format!(
        "INSERT INTO stock_reservations_archive (order_id, product_id, warehouse_id, sku,
                                                quantity, unit_price_minor, currency, state,
                                                created_at, settled_at, archived_at)
         SELECT order_id, product_id, warehouse_id, sku, quantity, unit_price_minor, currency,
                state, created_at, settled_at, ?3
         FROM stock_reservations WHERE rowid IN ({picked})"
    ))
    .bind(boundary)
    .bind(batch)
    .bind(archived_at)
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .rows_affected();
    sqlx::query(&format!(
        "DELETE FROM stock_reservations WHERE rowid IN ({picked})"
    ))
    .bind(boundary)
    .bind(batch)
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    // Final payments (postgres/0013): declined, refunded, or captured for an order past shipping.
    let picked = "SELECT p.rowid FROM payments p
                  WHERE p.order_id < ?1
                    AND (p.status IN ('failed', 'refunded')
                         OR (p.status = 'captured'
                             AND EXISTS (SELECT 1 FROM orders o
                                         WHERE o.id = p.order_id
                                           AND o.status IN ('shipped', 'delivered', 'refunded'))))
                  ORDER BY p.order_id LIMIT ?2";
    let payments = sqlx::query(&format!(
        "INSERT INTO payments_archive (id, order_id, order_created_at, amount_minor, currency,
                                      status, provider, provider_ref, request_key, failure,
                                      created_at, updated_at, archived_at)
         SELECT id, order_id, order_created_at, amount_minor, currency, status, provider,
                provider_ref, request_key, failure, created_at, updated_at, ?3
         FROM payments WHERE rowid IN ({picked})"
    ))
    .bind(boundary)
    .bind(batch)
    .bind(archived_at)
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .rows_affected();
    sqlx::query(&format!("DELETE FROM payments WHERE rowid IN ({picked})"))
        .bind(boundary)
        .bind(batch)
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)?;
    Ok(ArchiveReport {
        requests,
        reservations,
        payments,
    })
}
