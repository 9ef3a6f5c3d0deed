//! Placing orders in one transaction: one call of the stored function `place_orders_together`
//! (migration 0008, with the shipping address since 0010) for orders whose buyers' shards live
//! in the catalog database. The saga's three steps cost three commits and about twenty
//! statements per order; this is one round trip and one commit for every order in the call, and
//! leaves the same rows. Which orders share a call is [`super::gathering`]'s business.

use sqlx::PgPool;
use sqlx::postgres::PgRow;

use super::rows;
use crate::domain::{LineRequest, OrderRequest, PlacedAtOnce, Reservation};
use crate::ids::generate;
use crate::store::{StoreError, corrupt, from_sqlx};

const PLACE: &str = "SELECT ord, outcome, product_id, warehouse_id, sku, quantity, unit_price_minor
                     FROM place_orders_together($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                                                $13)";

/// Places `orders` in one transaction. The outer error is the call's (nothing was written); the
/// inner ones are each order's own, in the order given.
///
/// The call is one statement, so it commits before the answer arrives, with no BEGIN and COMMIT
/// round trips. Behind a transaction pooler (`pooled`) the connection's statements run in a
/// transaction that would commit only on release, after the caller has answered the buyer: there
/// the call is an explicit transaction, committed first.
pub async fn place(
    pool: &PgPool,
    orders: &[&OrderRequest],
    pooled: bool,
) -> Result<Vec<Result<PlacedAtOnce, StoreError>>, StoreError> {
    let mut call = Call::default();
    for (index, order) in orders.iter().enumerate() {
        call.push(index as i32 + 1, order)?;
    }
    if pooled {
        let mut tx = pool.begin().await.map_err(from_sqlx)?;
        let found = call.query().fetch_all(&mut *tx).await.map_err(from_sqlx)?;
        tx.commit().await.map_err(from_sqlx)?;
        return answers(orders, &found);
    }
    let found = call.query().fetch_all(pool).await.map_err(from_sqlx)?;
    answers(orders, &found)
}

/// Each order's answer from the function's rows.
fn answers(
    orders: &[&OrderRequest],
    found: &[PgRow],
) -> Result<Vec<Result<PlacedAtOnce, StoreError>>, StoreError> {
    // `ord` is the order's 1-based index in the call.
    let mut by_order: Vec<Vec<&PgRow>> = vec![Vec::new(); orders.len()];
    for row in found {
        let ord: i32 = rows::get(row, "ord")?;
        usize::try_from(ord - 1)
            .ok()
            .and_then(|index| by_order.get_mut(index))
            .ok_or_else(|| corrupt(format!("place_orders_together answered order {ord}")))?
            .push(row);
    }
    Ok(orders
        .iter()
        .zip(&by_order)
        .map(|(order, answer)| {
            if answer.is_empty() {
                Err(corrupt("place_orders_together left an order unanswered"))
            } else {
                outcome(order, answer)
            }
        })
        .collect())
}

/// The function's arguments: one entry per order, and one per line grouped by order.
#[derive(Default)]
struct Call {
    shards: Vec<i16>,
    users: Vec<i64>,
    keys: Vec<String>,
    fingerprints: Vec<String>,
    order_ids: Vec<i64>,
    created_at: Vec<chrono::DateTime<chrono::Utc>>,
    currencies: Vec<String>,
    lines: Vec<serde_json::Value>,
    line_orders: Vec<i32>,
    products: Vec<i64>,
    quantities: Vec<i32>,
    item_ids: Vec<i64>,
    ship_tos: Vec<serde_json::Value>,
}

impl Call {
    /// The call of `place_orders_together` with these arguments.
    fn query(&self) -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments> {
        sqlx::query(PLACE)
            .bind(&self.shards)
            .bind(&self.users)
            .bind(&self.keys)
            .bind(&self.fingerprints)
            .bind(&self.order_ids)
            .bind(&self.created_at)
            .bind(&self.currencies)
            .bind(&self.lines)
            .bind(&self.line_orders)
            .bind(&self.products)
            .bind(&self.quantities)
            .bind(&self.item_ids)
            .bind(&self.ship_tos)
    }

    fn push(&mut self, index: i32, order: &OrderRequest) -> Result<(), StoreError> {
        // The function finds an order's lines by index and would place an order without any as
        // no order at all; validation never lets one through, and this keeps it that way.
        if order.lines.is_empty() {
            return Err(StoreError::Other(format!(
                "order {} has no lines",
                order.order_id
            )));
        }
        let ship_to = order
            .ship_to
            .as_ref()
            .ok_or_else(|| StoreError::Other(format!("order {} has no address", order.order_id)))?;
        self.ship_tos.push(ship_to.to_json());
        let shard = order.user.shard();
        self.shards.push(shard as i16);
        self.users.push(order.user.as_i64());
        self.keys.push(order.key.as_str().to_owned());
        self.fingerprints.push(order.fingerprint.clone());
        self.order_ids.push(order.order_id.as_i64());
        self.created_at.push(order.created_at);
        self.currencies.push(order.currency.as_str().to_owned());
        self.lines.push(
            serde_json::to_value(&order.lines).map_err(|e| StoreError::Other(e.to_string()))?,
        );
        // Product-id order within an order is the order its lines are held in, as in the saga.
        let mut by_product: Vec<&LineRequest> = order.lines.iter().collect();
        by_product.sort_by_key(|l| l.product);
        for line in by_product {
            self.line_orders.push(index);
            self.products.push(line.product.as_i64());
            self.quantities.push(line.quantity.get());
            self.item_ids.push(generate(shard));
        }
        Ok(())
    }
}

/// One order's answer: its held lines, or the single row saying why it did not place.
fn outcome(order: &OrderRequest, answer: &[&PgRow]) -> Result<PlacedAtOnce, StoreError> {
    let first = answer[0];
    let refused_product = || rows::product_id(rows::get(first, "product_id")?);
    let outcome: String = rows::get(first, "outcome")?;
    let reservation = match outcome.as_str() {
        "held" => {
            let held = answer
                .iter()
                .map(|row| rows::reserved_line(row))
                .collect::<Result<Vec<_>, StoreError>>()?;
            Reservation::Held(super::catalog::in_request_order(held, &order.lines))
        }
        "short" => Reservation::Short {
            product: refused_product()?,
        },
        "no_price" => Reservation::NoPrice {
            product: refused_product()?,
        },
        "unavailable" => Reservation::Unavailable {
            product: refused_product()?,
        },
        "existing" => return Ok(PlacedAtOnce::KeyUsed),
        "moving" => return Err(StoreError::ShardMoving(order.user.shard())),
        other => return Err(corrupt(format!("place_orders_together outcome {other}"))),
    };
    Ok(PlacedAtOnce::New(reservation))
}
