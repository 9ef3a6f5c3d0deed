//! Finding stock held for orders whose request is missing on their shard: what restoring the
//! catalog database to a later moment than a shard database leaves (README, "Restoring several
//! databases to one moment"). Two queries on two databases, joined in the router.

use std::collections::HashSet;

use sqlx::PgPool;

use super::rows;
use crate::ids::OrderId;
use crate::store::{StoreError, from_sqlx};

/// Orders per page of the catalog's held reservations.
pub const PAGE: u32 = 5_000;

/// Up to `limit` orders holding stock, by id after `after` (the reservations' primary key leads
/// with `order_id`, so each page is an index range).
pub async fn holding_stock(
    pool: &PgPool,
    after: Option<OrderId>,
    limit: u32,
) -> Result<Vec<OrderId>, StoreError> {
    let raw: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT order_id FROM stock_reservations
         WHERE state = 'held' AND order_id > $1 ORDER BY order_id LIMIT $2",
    )
    .bind(after.map_or(i64::MIN, |id| id.as_i64()))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    raw.into_iter().map(rows::order_id).collect()
}

/// Those of `orders` that have a request in this shard database, live or archived.
pub async fn with_request(
    pool: &PgPool,
    orders: &[OrderId],
) -> Result<HashSet<OrderId>, StoreError> {
    let raw: Vec<i64> = orders.iter().map(|id| id.as_i64()).collect();
    let known: Vec<i64> = sqlx::query_scalar(
        "SELECT order_id FROM order_requests WHERE order_id = ANY($1)
         UNION
         SELECT order_id FROM order_requests_archive WHERE order_id = ANY($1)",
    )
    .bind(&raw)
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    known.into_iter().map(rows::order_id).collect()
}
