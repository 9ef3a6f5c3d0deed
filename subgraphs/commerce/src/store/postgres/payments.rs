//! Payment queries (the order's shard database): recording an attempt, applying the provider's
//! answers, and reading an order's attempts.
//!
//! Non-obvious: both writes lock the order's row first (`orders::locked_order`), as cancelling,
//! shipping and delivering do, so an order's payments and status changes take turns; with that
//! lock held, the unique index `payments_one_live_per_order` is a backstop, never a race.
//! A final payment may have moved to `payments_archive` (migration 0013): every read by id, order
//! or key looks there too, so a duplicate callback or a retried payOrder finds it, and the one
//! change an archived payment can take (captured → refunded) is applied where it lies.

use sqlx::{PgConnection, PgPool};

use super::orders::{fence, locked_order, set_order_status, set_state_of_order};
use super::rows;
use crate::domain::{
    NewPayment, OpenPayment, OrderStatus, Payment, PaymentEvent, PaymentUpdate, RequestState,
};
use crate::ids::{OrderId, PaymentId, UserId};
use crate::store::{StoreError, from_sqlx};

const PAYMENTS_OF_ORDERS: &str =
    include_str!("../../../../../sql/commerce/postgres/queries/payments_of_orders.sql");
const PAYMENT_COLUMNS: &str =
    "id, order_id, amount_minor, currency, status, provider, provider_ref, failure, created_at";

/// Records the attempt; also returns the buyer, whose read-your-writes the caller notes.
pub async fn open(
    pool: &PgPool,
    new: &NewPayment,
) -> Result<(OpenPayment, Option<UserId>), StoreError> {
    let mut tx = pool.begin().await.map_err(from_sqlx)?;
    fence(&mut tx, new.order.shard()).await?;
    let Some(order) = locked_order(&mut tx, new.order).await? else {
        return Ok((OpenPayment::NotFound, None));
    };
    let buyer = Some(order.user);
    let same_key = sqlx::query(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments_with_archive
         WHERE order_id = $1 AND request_key = $2"
    ))
    .bind(new.order.as_i64())
    .bind(new.key.as_str())
    .fetch_optional(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    if let Some(row) = same_key {
        return Ok((OpenPayment::Ready(rows::payment(&row)?), buyer));
    }
    if order.status != OrderStatus::Pending {
        return Ok((OpenPayment::NotPayable(order.status), buyer));
    }
    if order.total_minor == 0 {
        return Ok((OpenPayment::NothingToPay, buyer));
    }
    let live = sqlx::query(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments
         WHERE order_id = $1 AND status IN ('pending', 'authorized', 'captured')"
    ))
    .bind(new.order.as_i64())
    .fetch_optional(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    if let Some(row) = live {
        return Ok((OpenPayment::InProgress(rows::payment(&row)?), buyer));
    }
    let row = sqlx::query(&format!(
        "INSERT INTO payments (id, order_id, order_created_at, amount_minor, currency, status,
                               provider, request_key, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, date_trunc('milliseconds', now()), now())
         RETURNING {PAYMENT_COLUMNS}"
    ))
    .bind(new.id.as_i64())
    .bind(order.id.as_i64())
    .bind(order.created_at)
    .bind(order.total_minor)
    .bind(order.currency.as_str())
    .bind(&new.provider)
    .bind(new.key.as_str())
    .fetch_one(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)?;
    Ok((OpenPayment::Ready(rows::payment(&row)?), buyer))
}

/// Where a payment row lies: the hot table, or the archive of final payments.
const HOT: &str = "payments";
const ARCHIVE: &str = "payments_archive";

/// The payment in `table`, locked.
async fn locked_payment(
    conn: &mut PgConnection,
    table: &str,
    payment: PaymentId,
) -> Result<Option<Payment>, StoreError> {
    let found = sqlx::query(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM {table} WHERE id = $1 FOR UPDATE"
    ))
    .bind(payment.as_i64())
    .fetch_optional(conn)
    .await
    .map_err(from_sqlx)?;
    found.as_ref().map(rows::payment).transpose()
}

/// Applies `event`; also returns the buyer, whose read-your-writes the caller notes.
pub async fn record(
    pool: &PgPool,
    payment: PaymentId,
    event: &PaymentEvent,
) -> Result<(PaymentUpdate, Option<UserId>), StoreError> {
    let mut tx = pool.begin().await.map_err(from_sqlx)?;
    fence(&mut tx, payment.shard()).await?;
    // Order first, then payment: the lock order of `open`.
    let Some(order) = order_of(&mut tx, payment).await? else {
        return Ok((PaymentUpdate::NotFound, None));
    };
    let Some(order) = locked_order(&mut tx, order).await? else {
        // An archived payment outlives its order's month (detached after `retain_months`): its
        // status still answers a duplicate, and nothing else can apply without the order.
        let archived = locked_payment(&mut tx, ARCHIVE, payment).await?;
        let update = archived.map_or(PaymentUpdate::NotFound, |current| {
            applied_before(current, event)
        });
        return Ok((update, None));
    };
    let buyer = Some(order.user);
    // Hot first; a payment the archiver moved (even while this waited for its lock) is found in
    // the archive, where the same transitions apply.
    let (current, table) = match locked_payment(&mut tx, HOT, payment).await? {
        Some(current) => (current, HOT),
        None => match locked_payment(&mut tx, ARCHIVE, payment).await? {
            Some(current) => (current, ARCHIVE),
            None => return Ok((PaymentUpdate::NotFound, buyer)),
        },
    };
    if current.status == event.target() {
        return Ok((applied_before(current, event), buyer));
    }
    if current.status != event.source() {
        return Ok((PaymentUpdate::Refused(current), buyer));
    }
    let (provider_ref, failure) = match event {
        PaymentEvent::Authorized(r) => (Some(r.as_str()), None),
        PaymentEvent::Declined(reason) => (None, Some(reason.as_str())),
        PaymentEvent::Captured | PaymentEvent::Refunded => (None, None),
    };
    let row = sqlx::query(&format!(
        "UPDATE {table}
         SET status = $2, provider_ref = coalesce($3, provider_ref),
             failure = coalesce($4, failure), updated_at = now()
         WHERE id = $1
         RETURNING {PAYMENT_COLUMNS}"
    ))
    .bind(payment.as_i64())
    .bind(event.target().as_str())
    .bind(provider_ref)
    .bind(failure.map(|f| f.chars().take(200).collect::<String>()))
    .fetch_one(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    let updated = rows::payment(&row)?;
    let mut release_stock = false;
    match (event, order.status) {
        (PaymentEvent::Captured, OrderStatus::Pending) => {
            set_order_status(&mut tx, &order, OrderStatus::Paid).await?;
        }
        (PaymentEvent::Refunded, status) if status.refundable() => {
            set_order_status(&mut tx, &order, OrderStatus::Refunded).await?;
            // Not shipped yet: its stock goes back, through the cancelling saga's last steps.
            if status == OrderStatus::Paid {
                set_state_of_order(
                    &mut tx,
                    order.id,
                    RequestState::Placed,
                    RequestState::Releasing,
                )
                .await?;
                release_stock = true;
            }
        }
        _ => {}
    }
    tx.commit().await.map_err(from_sqlx)?;
    let update = PaymentUpdate::Applied {
        payment: updated,
        release_stock,
    };
    Ok((update, buyer))
}

/// What an event that finds its payment already in the event's target status did: nothing. A
/// second authorisation with another reference is refused, not taken for the first.
fn applied_before(current: Payment, event: &PaymentEvent) -> PaymentUpdate {
    let same = match event {
        PaymentEvent::Authorized(r) => current.provider_ref.as_ref() == Some(r),
        _ => true,
    };
    if current.status == event.target() && same {
        PaymentUpdate::AlreadyApplied(current)
    } else {
        PaymentUpdate::Refused(current)
    }
}

/// The order a payment belongs to, hot or archived (payments route by their own id's shard,
/// which is the order's).
async fn order_of(
    conn: &mut PgConnection,
    payment: PaymentId,
) -> Result<Option<OrderId>, StoreError> {
    let order: Option<i64> =
        sqlx::query_scalar("SELECT order_id FROM payments_with_archive WHERE id = $1")
            .bind(payment.as_i64())
            .fetch_optional(conn)
            .await
            .map_err(from_sqlx)?;
    order.map(rows::order_id).transpose()
}

pub async fn of_orders(pool: &PgPool, orders: &[OrderId]) -> Result<Vec<Payment>, StoreError> {
    let raw: Vec<i64> = orders.iter().map(|o| o.as_i64()).collect();
    let found = sqlx::query(PAYMENTS_OF_ORDERS)
        .bind(&raw)
        .fetch_all(pool)
        .await
        .map_err(from_sqlx)?;
    found.iter().map(rows::payment).collect()
}
