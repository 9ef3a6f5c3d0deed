//! Catalog queries (catalog database): products, prices, warehouses, stock and reservations.
//!
//! Non-obvious: every write is an explicit transaction committed before returning (see
//! `users.rs` on transaction pooling). `reserve` takes a transaction-scoped advisory lock on the order id first, so a
//! retry racing the sweeper for the same order waits for the other attempt and then finds its
//! reservation rows, instead of holding stock twice. Lines lock their inventory rows in product
//! id order, so two orders for overlapping products cannot deadlock.

use chrono::Utc;
use sqlx::{PgConnection, PgPool, Row};

use super::rows;
use crate::domain::{
    ArchiveReport, CategorySlug, Currency, InventoryDrift, LineRequest, Money, NewProduct, Product,
    Reservation, ReservedLine, Restock, RestockOutcome, Sku, WarehouseCode,
};
use crate::ids::{OrderId, ProductId, WarehouseId, generate};
use crate::store::{StoreError, from_sqlx};

const PRODUCTS_BY_IDS: &str =
    include_str!("../../../../../sql/commerce/postgres/queries/products_by_ids.sql");
const PRODUCTS_BY_SKUS: &str =
    include_str!("../../../../../sql/commerce/postgres/queries/products_by_skus.sql");
const LIST_PRODUCTS: &str =
    include_str!("../../../../../sql/commerce/postgres/queries/list_products.sql");
const LIST_PRODUCTS_IN_CATEGORY: &str =
    include_str!("../../../../../sql/commerce/postgres/queries/list_products_in_category.sql");
const PRODUCT_IDS_BY_SKUS: &str =
    include_str!("../../../../../sql/commerce/postgres/queries/product_ids_by_skus.sql");
const RESERVE_LINE: &str =
    include_str!("../../../../../sql/commerce/postgres/queries/reserve_line.sql");

pub async fn products_by_ids(pool: &PgPool, ids: &[ProductId]) -> Result<Vec<Product>, StoreError> {
    let raw: Vec<i64> = ids.iter().map(|id| id.as_i64()).collect();
    let found = sqlx::query(PRODUCTS_BY_IDS)
        .bind(&raw)
        .fetch_all(pool)
        .await
        .map_err(from_sqlx)?;
    found.iter().map(rows::product).collect()
}

pub async fn products_by_skus(
    pool: &PgPool,
    skus: &[crate::domain::Sku],
) -> Result<Vec<Product>, StoreError> {
    let raw: Vec<&str> = skus.iter().map(|s| s.as_str()).collect();
    let found = sqlx::query(PRODUCTS_BY_SKUS)
        .bind(&raw)
        .fetch_all(pool)
        .await
        .map_err(from_sqlx)?;
    found.iter().map(rows::product).collect()
}

pub async fn product_ids_by_skus(
    pool: &PgPool,
    skus: &[Sku],
) -> Result<Vec<(Sku, ProductId)>, StoreError> {
    let raw: Vec<&str> = skus.iter().map(Sku::as_str).collect();
    let found = sqlx::query(PRODUCT_IDS_BY_SKUS)
        .bind(&raw)
        .fetch_all(pool)
        .await
        .map_err(from_sqlx)?;
    found
        .iter()
        .map(|row| {
            Ok((
                rows::sku(&rows::get::<String>(row, "sku")?)?,
                rows::product_id(rows::get(row, "id")?)?,
            ))
        })
        .collect()
}

pub async fn list_products(
    pool: &PgPool,
    category: Option<&CategorySlug>,
    first: u32,
    after: Option<ProductId>,
) -> Result<Vec<Product>, StoreError> {
    let after = after.map_or(0, ProductId::as_i64);
    let query = match category {
        Some(slug) => sqlx::query(LIST_PRODUCTS_IN_CATEGORY).bind(slug.as_str()),
        None => sqlx::query(LIST_PRODUCTS),
    };
    let found = query
        .bind(after)
        .bind(i64::from(first))
        .fetch_all(pool)
        .await
        .map_err(from_sqlx)?;
    found.iter().map(rows::product).collect()
}

pub async fn create_product(pool: &PgPool, new: &NewProduct) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(from_sqlx)?;
    let category_id: Option<i64> = match &new.category {
        Some(slug) => Some(
            sqlx::query_scalar(
                "INSERT INTO categories (id, slug, name) VALUES ($1, $2, $2)
                 ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug RETURNING id",
            )
            .bind(generate(0))
            .bind(slug.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(from_sqlx)?,
        ),
        None => None,
    };
    sqlx::query(
        "INSERT INTO products (id, sku, name, description, category_id) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(new.id.as_i64())
    .bind(new.sku.as_str())
    .bind(new.name.as_str())
    .bind(&new.description)
    .bind(category_id)
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    insert_price(&mut tx, new.id, &new.price).await?;
    tx.commit().await.map_err(from_sqlx)
}

async fn insert_price(
    conn: &mut PgConnection,
    product: ProductId,
    price: &Money,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO prices (id, product_id, currency, amount_minor, valid_from)
         VALUES ($1, $2, $3, $4, date_trunc('milliseconds', now()))
         ON CONFLICT (product_id, currency, valid_from) DO UPDATE SET amount_minor = EXCLUDED.amount_minor",
    )
    .bind(generate(0))
    .bind(product.as_i64())
    .bind(price.currency.as_str())
    .bind(price.amount_minor)
    .execute(conn)
    .await
    .map(drop)
    .map_err(from_sqlx)
}

pub async fn set_price(pool: &PgPool, product: ProductId, price: &Money) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(from_sqlx)?;
    insert_price(&mut tx, product, price).await?;
    tx.commit().await.map_err(from_sqlx)
}

pub async fn ensure_warehouse(
    pool: &PgPool,
    code: &WarehouseCode,
    name: &str,
    country: &str,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(from_sqlx)?;
    sqlx::query(
        "INSERT INTO warehouses (id, code, name, country) VALUES ($1, $2, $3, $4)
         ON CONFLICT (code) DO NOTHING",
    )
    .bind(generate(0))
    .bind(code.as_str())
    .bind(name)
    .bind(country)
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)
}

pub async fn restock(pool: &PgPool, restock: &Restock) -> Result<RestockOutcome, StoreError> {
    let mut tx = pool.begin().await.map_err(from_sqlx)?;
    let Some(warehouse): Option<i64> =
        sqlx::query_scalar("SELECT id FROM warehouses WHERE code = $1")
            .bind(restock.warehouse.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(from_sqlx)?
    else {
        return Ok(RestockOutcome::UnknownWarehouse);
    };
    let recorded = sqlx::query(
        "INSERT INTO stock_movements (idempotency_key, product_id, warehouse_id, quantity)
         VALUES ($1, $2, $3, $4) ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(restock.key.as_str())
    .bind(restock.product.as_i64())
    .bind(warehouse)
    .bind(restock.quantity.get())
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .rows_affected();
    if recorded == 0 {
        let earlier = sqlx::query(
            "SELECT product_id, warehouse_id, quantity FROM stock_movements WHERE idempotency_key = $1",
        )
        .bind(restock.key.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        let same = earlier.get::<i64, _>(0) == restock.product.as_i64()
            && earlier.get::<i64, _>(1) == warehouse
            && earlier.get::<i32, _>(2) == restock.quantity.get();
        return Ok(if same {
            RestockOutcome::AlreadyApplied
        } else {
            RestockOutcome::KeyReused
        });
    }
    sqlx::query(
        "INSERT INTO inventory (product_id, warehouse_id, on_hand, reserved, updated_at)
         VALUES ($1, $2, $3, 0, now())
         ON CONFLICT (product_id, warehouse_id)
         DO UPDATE SET on_hand = inventory.on_hand + EXCLUDED.on_hand, updated_at = now()",
    )
    .bind(restock.product.as_i64())
    .bind(warehouse)
    .bind(restock.quantity.get())
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)?;
    Ok(RestockOutcome::Applied)
}

pub async fn reserve(
    pool: &PgPool,
    order: OrderId,
    currency: &Currency,
    lines: &[LineRequest],
) -> Result<Reservation, StoreError> {
    let mut tx = pool.begin().await.map_err(from_sqlx)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(order.as_i64())
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    let earlier = held_lines(&mut tx, order).await?;
    if !earlier.is_empty() {
        return Ok(Reservation::Held(in_request_order(earlier, lines)));
    }
    let mut by_product: Vec<&LineRequest> = lines.iter().collect();
    by_product.sort_by_key(|l| l.product);
    let mut held = Vec::with_capacity(lines.len());
    for line in by_product {
        let product = sqlx::query(
            "SELECT p.sku, p.active,
                    (SELECT amount_minor FROM prices pr
                     WHERE pr.product_id = p.id AND pr.currency = $2 AND pr.valid_from <= now()
                     ORDER BY pr.valid_from DESC LIMIT 1) AS price
             FROM products p WHERE p.id = $1",
        )
        .bind(line.product.as_i64())
        .bind(currency.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        let refusal = match &product {
            None => Some(Reservation::Unavailable {
                product: line.product,
            }),
            Some(row) if !row.get::<bool, _>("active") => Some(Reservation::Unavailable {
                product: line.product,
            }),
            Some(row) if row.get::<Option<i64>, _>("price").is_none() => {
                Some(Reservation::NoPrice {
                    product: line.product,
                })
            }
            Some(_) => None,
        };
        if let Some(refusal) = refusal {
            return Ok(refusal); // dropping the transaction rolls back the lines held so far
        }
        let product = product.expect("checked above");
        let Some(warehouse) = reserve_line(&mut tx, line).await? else {
            return Ok(Reservation::Short {
                product: line.product,
            });
        };
        let reserved = ReservedLine {
            product: line.product,
            sku: rows::sku(&product.get::<String, _>("sku"))?,
            warehouse,
            quantity: line.quantity,
            unit_price_minor: product
                .get::<Option<i64>, _>("price")
                .expect("checked above"),
        };
        sqlx::query(
            "INSERT INTO stock_reservations
                 (order_id, product_id, warehouse_id, sku, quantity, unit_price_minor, currency)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(order.as_i64())
        .bind(reserved.product.as_i64())
        .bind(reserved.warehouse.as_i64())
        .bind(reserved.sku.as_str())
        .bind(reserved.quantity.get())
        .bind(reserved.unit_price_minor)
        .bind(currency.as_str())
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        held.push(reserved);
    }
    tx.commit().await.map_err(from_sqlx)?;
    Ok(Reservation::Held(in_request_order(held, lines)))
}

/// Holds the line's units in the warehouse with the most available, or `None` when no single
/// warehouse has enough. Retried when a concurrent buyer took the chosen warehouse's last units
/// between choosing and locking (the UPDATE then matches no row) while another still has them.
async fn reserve_line(
    conn: &mut PgConnection,
    line: &LineRequest,
) -> Result<Option<WarehouseId>, StoreError> {
    for _ in 0..5 {
        let warehouse: Option<i64> = sqlx::query_scalar(RESERVE_LINE)
            .bind(line.product.as_i64())
            .bind(line.quantity.get())
            .fetch_optional(&mut *conn)
            .await
            .map_err(from_sqlx)?;
        if let Some(id) = warehouse {
            return WarehouseId::from_i64(id)
                .map(Some)
                .ok_or_else(|| crate::store::corrupt(format!("warehouse id {id}")));
        }
        let any_left: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM inventory
                            WHERE product_id = $1 AND on_hand - reserved >= $2)",
        )
        .bind(line.product.as_i64())
        .bind(line.quantity.get())
        .fetch_one(&mut *conn)
        .await
        .map_err(from_sqlx)?;
        if !any_left {
            return Ok(None);
        }
    }
    Ok(None)
}

async fn held_lines(
    conn: &mut PgConnection,
    order: OrderId,
) -> Result<Vec<ReservedLine>, StoreError> {
    let found = sqlx::query(
        "SELECT product_id, warehouse_id, sku, quantity, unit_price_minor
         FROM stock_reservations WHERE order_id = $1",
    )
    .bind(order.as_i64())
    .fetch_all(conn)
    .await
    .map_err(from_sqlx)?;
    found.iter().map(rows::reserved_line).collect()
}

pub(super) fn in_request_order(
    mut held: Vec<ReservedLine>,
    lines: &[LineRequest],
) -> Vec<ReservedLine> {
    held.sort_by_key(|h| lines.iter().position(|l| l.product == h.product));
    held
}

/// Gives back the units held for `order` that are still held; returns their products.
pub async fn release(pool: &PgPool, order: OrderId) -> Result<Vec<ProductId>, StoreError> {
    let mut tx = pool.begin().await.map_err(from_sqlx)?;
    let released = sqlx::query(
        "UPDATE stock_reservations SET state = 'released', settled_at = now()
         WHERE order_id = $1 AND state = 'held'
         RETURNING product_id, warehouse_id, quantity",
    )
    .bind(order.as_i64())
    .fetch_all(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    let mut products = Vec::with_capacity(released.len());
    for row in &released {
        let product: i64 = rows::get(row, "product_id")?;
        sqlx::query(
            "UPDATE inventory SET reserved = reserved - $3, updated_at = $4
             WHERE product_id = $1 AND warehouse_id = $2",
        )
        .bind(product)
        .bind(rows::get::<i64>(row, "warehouse_id")?)
        .bind(rows::get::<i32>(row, "quantity")?)
        .bind(Utc::now())
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        products.push(rows::product_id(product)?);
    }
    tx.commit().await.map_err(from_sqlx)?;
    Ok(products)
}

/// Stock rows whose `reserved` is not the total of their held reservations
/// (`commerce_inventory_drift()`, migration 0010).
pub async fn drift(pool: &PgPool) -> Result<Vec<InventoryDrift>, StoreError> {
    let found: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT product_id, warehouse_id, reserved, held FROM commerce_inventory_drift()",
    )
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    found
        .into_iter()
        .map(|(product, warehouse, reserved, held)| {
            Ok(InventoryDrift {
                product: rows::product_id(product)?,
                warehouse: WarehouseId::from_i64(warehouse)
                    .ok_or_else(|| crate::store::corrupt(format!("warehouse id {warehouse}")))?,
                reserved,
                held,
            })
        })
        .collect()
}

/// One batch of `commerce_archive_settled` (migrations 0011, 0013) on one database.
pub async fn archive_settled(
    pool: &PgPool,
    orders_before: chrono::DateTime<Utc>,
    as_of: chrono::DateTime<Utc>,
    batch: u32,
) -> Result<ArchiveReport, StoreError> {
    let (requests, reservations, payments): (i64, i64, i64) = sqlx::query_as(
        "SELECT requests, reservations, payments FROM commerce_archive_settled($1, $2, $3)",
    )
    .bind(orders_before)
    .bind(i32::try_from(batch).unwrap_or(i32::MAX))
    .bind(as_of)
    .fetch_one(pool)
    .await
    .map_err(from_sqlx)?;
    Ok(ArchiveReport {
        requests: requests.max(0) as u64,
        reservations: reservations.max(0) as u64,
        payments: payments.max(0) as u64,
    })
}
