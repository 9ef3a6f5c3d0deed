//! Payments: recording an attempt, applying the provider's answers, reading an order's attempts.
//!
//! Non-obvious: every write here runs under `BEGIN IMMEDIATE` (the database's one writer), which
//! does for SQLite what locking the order's row does on Postgres: an order's payments and status
//! changes take turns. A final payment may have moved to `payments_archive` (migration 0013):
//! reads by id, order or key look there too, and its one possible change (captured → refunded)
//! applies where it lies.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::orders::{RequestOf, move_request, orders_with_ids};
use super::{SqliteStore, json_array, now_ms, time_from_ms};
use crate::domain::{
    Currency, NewPayment, OpenPayment, Order, OrderStatus, Payment, PaymentEvent, PaymentStatus,
    PaymentUpdate, ProviderRef, RequestState,
};
use crate::ids::{OrderId, PaymentId};
use crate::store::{StoreError, corrupt, from_sqlx};

const COLUMNS: &str =
    "id, order_id, amount_minor, currency, status, provider, provider_ref, failure, created_at";

fn payment_from_row(row: &SqliteRow) -> Result<Payment, StoreError> {
    let id: i64 = row.try_get("id").map_err(from_sqlx)?;
    let order: i64 = row.try_get("order_id").map_err(from_sqlx)?;
    let currency: String = row.try_get("currency").map_err(from_sqlx)?;
    let status: String = row.try_get("status").map_err(from_sqlx)?;
    let provider_ref: Option<String> = row.try_get("provider_ref").map_err(from_sqlx)?;
    Ok(Payment {
        id: PaymentId::from_i64(id).ok_or_else(|| corrupt(format!("payment id {id}")))?,
        order: OrderId::from_i64(order).ok_or_else(|| corrupt(format!("order id {order}")))?,
        amount_minor: row.try_get("amount_minor").map_err(from_sqlx)?,
        currency: Currency::parse(&currency).map_err(corrupt)?,
        status: PaymentStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("payment status {status:?}")))?,
        provider: row.try_get("provider").map_err(from_sqlx)?,
        provider_ref: provider_ref
            .map(|r| ProviderRef::parse(&r).map_err(corrupt))
            .transpose()?,
        failure: row.try_get("failure").map_err(from_sqlx)?,
        created_at: time_from_ms(row.try_get("created_at").map_err(from_sqlx)?, "created_at")?,
    })
}

async fn one_payment(
    conn: &mut SqliteConnection,
    filter: &str,
    order: OrderId,
) -> Result<Option<Payment>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE order_id = ? AND {filter}");
    let query = sqlx::query(&sql).bind(order.as_i64());
    let found = query.fetch_optional(conn).await.map_err(from_sqlx)?;
    found.as_ref().map(payment_from_row).transpose()
}

async fn order(conn: &mut SqliteConnection, id: OrderId) -> Result<Option<Order>, StoreError> {
    Ok(orders_with_ids(conn, &[id]).await?.pop())
}

pub(super) async fn open_payment(
    store: &SqliteStore,
    new: &NewPayment,
) -> Result<OpenPayment, StoreError> {
    let mut tx = store.write().await?;
    let Some(found) = order(&mut tx, new.order).await? else {
        return Ok(OpenPayment::NotFound);
    };
    // A retry finds its attempt even after the attempt was archived.
    let same = format!(
        "SELECT {COLUMNS} FROM payments_with_archive WHERE order_id = ? AND request_key = ?"
    );
    let same = sqlx::query(&same)
        .bind(new.order.as_i64())
        .bind(new.key.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    if let Some(same) = same {
        return payment_from_row(&same).map(OpenPayment::Ready);
    }
    if found.status != OrderStatus::Pending {
        return Ok(OpenPayment::NotPayable(found.status));
    }
    if found.total_minor == 0 {
        return Ok(OpenPayment::NothingToPay);
    }
    let live = "status IN ('pending', 'authorized', 'captured')";
    if let Some(live) = one_payment(&mut tx, live, new.order).await? {
        return Ok(OpenPayment::InProgress(live));
    }
    let now = now_ms();
    let row = sqlx::query(&format!(
        "INSERT INTO payments (id, order_id, order_created_at, amount_minor, currency, status,
                               provider, request_key, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)
         RETURNING {COLUMNS}"
    ))
    .bind(new.id.as_i64())
    .bind(found.id.as_i64())
    .bind(found.created_at.timestamp_millis())
    .bind(found.total_minor)
    .bind(found.currency.as_str())
    .bind(&new.provider)
    .bind(new.key.as_str())
    .bind(now)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)?;
    payment_from_row(&row).map(OpenPayment::Ready)
}

pub(super) async fn record_payment(
    store: &SqliteStore,
    payment: PaymentId,
    event: &PaymentEvent,
) -> Result<PaymentUpdate, StoreError> {
    let mut tx = store.write().await?;
    let found = sqlx::query(&format!(
        "SELECT {COLUMNS}, archived FROM payments_with_archive WHERE id = ?"
    ))
    .bind(payment.as_i64())
    .fetch_optional(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    let Some(found) = found else {
        return Ok(PaymentUpdate::NotFound);
    };
    let current = payment_from_row(&found)?;
    let archived: bool = found.try_get("archived").map_err(from_sqlx)?;
    let table = if archived {
        "payments_archive"
    } else {
        "payments"
    };
    if current.status == event.target() {
        let same = match event {
            PaymentEvent::Authorized(r) => current.provider_ref.as_ref() == Some(r),
            _ => true,
        };
        return Ok(if same {
            PaymentUpdate::AlreadyApplied(current)
        } else {
            PaymentUpdate::Refused(current)
        });
    }
    if current.status != event.source() {
        return Ok(PaymentUpdate::Refused(current));
    }
    let Some(paid_for) = order(&mut tx, current.order).await? else {
        return Ok(PaymentUpdate::NotFound);
    };
    let (provider_ref, failure) = match event {
        PaymentEvent::Authorized(r) => (Some(r.as_str()), None),
        PaymentEvent::Declined(reason) => {
            (None, Some(reason.chars().take(200).collect::<String>()))
        }
        PaymentEvent::Captured | PaymentEvent::Refunded => (None, None),
    };
    let row = sqlx::query(&format!(
        "UPDATE {table} SET status = ?, provider_ref = coalesce(?, provider_ref),
                             failure = coalesce(?, failure), updated_at = ?
         WHERE id = ? RETURNING {COLUMNS}"
    ))
    .bind(event.target().as_str())
    .bind(provider_ref)
    .bind(failure)
    .bind(now_ms())
    .bind(payment.as_i64())
    .fetch_one(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    let mut release_stock = false;
    let set_status = |status: OrderStatus| {
        sqlx::query("UPDATE orders SET status = ? WHERE id = ?")
            .bind(status.as_str())
            .bind(paid_for.id.as_i64())
    };
    match (event, paid_for.status) {
        (PaymentEvent::Captured, OrderStatus::Pending) => {
            set_status(OrderStatus::Paid)
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?;
        }
        (PaymentEvent::Refunded, status) if status.refundable() => {
            set_status(OrderStatus::Refunded)
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?;
            if status == OrderStatus::Paid {
                let which = RequestOf::Order(paid_for.id);
                move_request(
                    &mut tx,
                    which,
                    Some(RequestState::Placed),
                    RequestState::Releasing,
                )
                .await?;
                release_stock = true;
            }
        }
        _ => {}
    }
    tx.commit().await.map_err(from_sqlx)?;
    Ok(PaymentUpdate::Applied {
        payment: payment_from_row(&row)?,
        release_stock,
    })
}

pub(super) async fn payments_of(
    store: &SqliteStore,
    orders: &[OrderId],
) -> Result<Vec<Payment>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM payments_with_archive
         WHERE order_id IN (SELECT value FROM json_each(?))
         ORDER BY order_id, id"
    ))
    .bind(json_array(orders.iter().map(|o| o.as_i64()))?)
    .fetch_all(&store.pool)
    .await
    .map_err(from_sqlx)?;
    rows.iter().map(payment_from_row).collect()
}
