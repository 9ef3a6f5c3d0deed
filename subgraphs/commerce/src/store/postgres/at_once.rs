//! Placing an order in one transaction: one call of the stored function
//! `place_order_at_once` (migration 0006), for a buyer whose shard lives in the catalog
//! database. The saga's three steps cost three commits and about twenty statements; this is one
//! round trip and one commit, and leaves the same rows.

use sqlx::PgPool;

use super::rows;
use crate::domain::{LineRequest, OrderRequest, PlacedAtOnce, Reservation};
use crate::ids::generate;
use crate::store::{StoreError, corrupt, from_sqlx};

const PLACE: &str = "SELECT outcome, product_id, warehouse_id, sku, quantity, unit_price_minor
                     FROM place_order_at_once($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

pub async fn place(pool: &PgPool, request: &OrderRequest) -> Result<PlacedAtOnce, StoreError> {
    // Product-id order is the lock order of every reservation (see the function).
    let mut by_product: Vec<&LineRequest> = request.lines.iter().collect();
    by_product.sort_by_key(|l| l.product);
    let products: Vec<i64> = by_product.iter().map(|l| l.product.as_i64()).collect();
    let quantities: Vec<i32> = by_product.iter().map(|l| l.quantity.get()).collect();
    let shard = request.user.shard();
    let item_ids: Vec<i64> = by_product.iter().map(|_| generate(shard)).collect();
    let lines =
        serde_json::to_value(&request.lines).map_err(|e| StoreError::Other(e.to_string()))?;
    let found = sqlx::query(PLACE)
        .bind(shard as i16)
        .bind(request.user.as_i64())
        .bind(request.key.as_str())
        .bind(&request.fingerprint)
        .bind(request.order_id.as_i64())
        .bind(request.created_at)
        .bind(request.currency.as_str())
        .bind(lines)
        .bind(&products)
        .bind(&quantities)
        .bind(&item_ids)
        .fetch_all(pool)
        .await
        .map_err(from_sqlx)?;
    let first = found
        .first()
        .ok_or_else(|| corrupt("place_order_at_once returned nothing"))?;
    let refused_product = || rows::product_id(rows::get(first, "product_id")?);
    let outcome: String = rows::get(first, "outcome")?;
    let reservation = match outcome.as_str() {
        "held" => {
            let held = found
                .iter()
                .map(rows::reserved_line)
                .collect::<Result<Vec<_>, StoreError>>()?;
            Reservation::Held(super::catalog::in_request_order(held, &request.lines))
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
        "moving" => return Err(StoreError::ShardMoving(shard)),
        other => return Err(corrupt(format!("place_order_at_once outcome {other}"))),
    };
    Ok(PlacedAtOnce::New(reservation))
}
