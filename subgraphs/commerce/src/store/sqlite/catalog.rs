//! The catalog: products with their current prices and available stock, warehouses, restocks,
//! and the stock reservations that the order saga holds, then releases or ships.
//!
//! Non-obvious: a product is read in one statement: its current prices come back as one JSON
//! array from the `current_prices` view and its stock as a sum over warehouses, so a batch of
//! products never costs a query per product.

use std::collections::HashSet;

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::{SqliteStore, json_array, now_ms, time_from_ms};
use crate::domain::{
    CategorySlug, Currency, InventoryDrift, LineRequest, Money, NewProduct, Product, ProductName,
    Quantity, Reservation, ReservedLine, Restock, RestockOutcome, Sku, WarehouseCode,
};
use crate::ids::{OrderId, ProductId, WarehouseId, generate};
use crate::store::{StoreError, corrupt, from_sqlx};

/// Every product column, the current prices as `[[currency, amount], …]` and the units available.
const PRODUCT_SELECT: &str = "
    SELECT p.id, p.sku, p.name, p.description, c.slug AS category, p.active, p.created_at,
           (SELECT json_group_array(json_array(cp.currency, cp.amount_minor))
              FROM current_prices cp WHERE cp.product_id = p.id) AS prices,
           (SELECT coalesce(sum(i.on_hand - i.reserved), 0)
              FROM inventory i WHERE i.product_id = p.id) AS available
    FROM products p LEFT JOIN categories c ON c.id = p.category_id";

fn product_from_row(row: &SqliteRow) -> Result<Product, StoreError> {
    let raw_id: i64 = row.try_get("id").map_err(from_sqlx)?;
    let sku: String = row.try_get("sku").map_err(from_sqlx)?;
    let name: String = row.try_get("name").map_err(from_sqlx)?;
    let category: Option<String> = row.try_get("category").map_err(from_sqlx)?;
    let prices: String = row.try_get("prices").map_err(from_sqlx)?;
    let prices: Vec<(String, i64)> = serde_json::from_str(&prices)
        .map_err(|e| corrupt(format!("prices of product {raw_id}: {e}")))?;
    let mut prices = prices
        .into_iter()
        .map(|(currency, amount)| {
            let currency = Currency::parse(&currency).map_err(corrupt)?;
            Money::new(amount, currency).map_err(corrupt)
        })
        .collect::<Result<Vec<Money>, StoreError>>()?;
    prices.sort_by(|a, b| a.currency.cmp(&b.currency));
    Ok(Product {
        id: ProductId::from_i64(raw_id).ok_or_else(|| corrupt(format!("product id {raw_id}")))?,
        sku: Sku::parse(&sku).map_err(corrupt)?,
        name: ProductName::parse(&name).map_err(corrupt)?,
        description: row.try_get("description").map_err(from_sqlx)?,
        category: category
            .map(|slug| CategorySlug::parse(&slug).map_err(corrupt))
            .transpose()?,
        active: row.try_get("active").map_err(from_sqlx)?,
        prices,
        available: row.try_get("available").map_err(from_sqlx)?,
        created_at: time_from_ms(row.try_get("created_at").map_err(from_sqlx)?, "created_at")?,
    })
}

fn products_from_rows(rows: &[SqliteRow]) -> Result<Vec<Product>, StoreError> {
    rows.iter().map(product_from_row).collect()
}

pub(super) async fn create_product(
    store: &SqliteStore,
    new: NewProduct,
) -> Result<Product, StoreError> {
    let now = now_ms();
    let mut tx = store.write().await?;
    let category_id = match &new.category {
        Some(slug) => Some(category_id(&mut tx, slug).await?),
        None => None,
    };
    sqlx::query(
        "INSERT INTO products (id, sku, name, description, category_id, active, created_at)
         VALUES (?, ?, ?, ?, ?, 1, ?)",
    )
    .bind(new.id.as_i64())
    .bind(new.sku.as_str())
    .bind(new.name.as_str())
    .bind(&new.description)
    .bind(category_id)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    insert_price(&mut tx, new.id, &new.price, now).await?;
    tx.commit().await.map_err(from_sqlx)?;
    Ok(Product {
        id: new.id,
        sku: new.sku,
        name: new.name,
        description: new.description,
        category: new.category,
        active: true,
        prices: vec![new.price],
        available: 0,
        created_at: time_from_ms(now, "created_at")?,
    })
}

/// The id of the category `slug`, created (named after its slug) if it is new.
async fn category_id(conn: &mut SqliteConnection, slug: &CategorySlug) -> Result<i64, StoreError> {
    sqlx::query(
        "INSERT INTO categories (id, slug, name) VALUES (?, ?, ?) ON CONFLICT (slug) DO NOTHING",
    )
    .bind(generate(0))
    .bind(slug.as_str())
    .bind(slug.as_str())
    .execute(&mut *conn)
    .await
    .map_err(from_sqlx)?;
    sqlx::query_scalar("SELECT id FROM categories WHERE slug = ?")
        .bind(slug.as_str())
        .fetch_one(&mut *conn)
        .await
        .map_err(from_sqlx)
}

/// A price valid from `valid_from`; a price already set for that same millisecond is replaced.
async fn insert_price(
    conn: &mut SqliteConnection,
    product: ProductId,
    price: &Money,
    valid_from: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO prices (id, product_id, currency, amount_minor, valid_from)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (product_id, currency, valid_from)
         DO UPDATE SET amount_minor = excluded.amount_minor",
    )
    .bind(generate(0))
    .bind(product.as_i64())
    .bind(price.currency.as_str())
    .bind(price.amount_minor)
    .bind(valid_from)
    .execute(&mut *conn)
    .await
    .map_err(from_sqlx)
    .map(drop)
}

pub(super) async fn products_by_ids(
    store: &SqliteStore,
    ids: &[ProductId],
) -> Result<Vec<Product>, StoreError> {
    let json = json_array(ids.iter().map(|id| id.as_i64()))?;
    let sql = format!("{PRODUCT_SELECT} WHERE p.id IN (SELECT value FROM json_each(?))");
    let rows = sqlx::query(&sql)
        .bind(&json)
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    products_from_rows(&rows)
}

pub(super) async fn products_by_skus(
    store: &SqliteStore,
    skus: &[Sku],
) -> Result<Vec<Product>, StoreError> {
    let json = json_array(skus.iter().map(Sku::as_str))?;
    let sql = format!("{PRODUCT_SELECT} WHERE p.sku IN (SELECT value FROM json_each(?))");
    let rows = sqlx::query(&sql)
        .bind(&json)
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    products_from_rows(&rows)
}

pub(super) async fn product_ids_by_skus(
    store: &SqliteStore,
    skus: &[Sku],
) -> Result<Vec<(Sku, ProductId)>, StoreError> {
    let json = json_array(skus.iter().map(Sku::as_str))?;
    let rows =
        sqlx::query("SELECT sku, id FROM products WHERE sku IN (SELECT value FROM json_each(?))")
            .bind(&json)
            .fetch_all(&store.pool)
            .await
            .map_err(from_sqlx)?;
    rows.iter()
        .map(|row| {
            let sku: String = row.try_get("sku").map_err(from_sqlx)?;
            let id: i64 = row.try_get("id").map_err(from_sqlx)?;
            Ok((
                Sku::parse(&sku).map_err(corrupt)?,
                ProductId::from_i64(id).ok_or_else(|| corrupt(format!("product id {id}")))?,
            ))
        })
        .collect()
}

pub(super) async fn list_products(
    store: &SqliteStore,
    category: Option<&CategorySlug>,
    first: u32,
    after: Option<ProductId>,
) -> Result<Vec<Product>, StoreError> {
    let sql = format!(
        "{PRODUCT_SELECT} WHERE p.active = 1 AND p.id > ?1 AND (?2 IS NULL OR c.slug = ?2)
         ORDER BY p.id LIMIT ?3"
    );
    let rows = sqlx::query(&sql)
        .bind(after.map_or(0, ProductId::as_i64))
        .bind(category.map(CategorySlug::as_str))
        .bind(i64::from(first))
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    products_from_rows(&rows)
}

pub(super) async fn set_price(
    store: &SqliteStore,
    product: ProductId,
    price: Money,
) -> Result<(), StoreError> {
    let mut tx = store.write().await?;
    insert_price(&mut tx, product, &price, now_ms()).await?;
    tx.commit().await.map_err(from_sqlx)
}

pub(super) async fn ensure_warehouse(
    store: &SqliteStore,
    code: &WarehouseCode,
    name: &str,
    country: &str,
) -> Result<(), StoreError> {
    let mut tx = store.write().await?;
    sqlx::query(
        "INSERT INTO warehouses (id, code, name, country) VALUES (?, ?, ?, ?)
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

pub(super) async fn restock(
    store: &SqliteStore,
    restock: &Restock,
) -> Result<RestockOutcome, StoreError> {
    let mut tx = store.write().await?;
    let earlier = sqlx::query(
        "SELECT m.product_id, w.code, m.quantity
         FROM stock_movements m JOIN warehouses w ON w.id = m.warehouse_id
         WHERE m.idempotency_key = ?",
    )
    .bind(restock.key.as_str())
    .fetch_optional(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    if let Some(row) = earlier {
        let product: i64 = row.try_get("product_id").map_err(from_sqlx)?;
        let code: String = row.try_get("code").map_err(from_sqlx)?;
        let quantity: i32 = row.try_get("quantity").map_err(from_sqlx)?;
        let same = product == restock.product.as_i64()
            && code == restock.warehouse.as_str()
            && quantity == restock.quantity.get();
        tx.rollback().await.map_err(from_sqlx)?;
        return Ok(if same {
            RestockOutcome::AlreadyApplied
        } else {
            RestockOutcome::KeyReused
        });
    }
    let warehouse: Option<i64> = sqlx::query_scalar("SELECT id FROM warehouses WHERE code = ?")
        .bind(restock.warehouse.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    let Some(warehouse) = warehouse else {
        tx.rollback().await.map_err(from_sqlx)?;
        return Ok(RestockOutcome::UnknownWarehouse);
    };
    let now = now_ms();
    sqlx::query(
        "INSERT INTO stock_movements (idempotency_key, product_id, warehouse_id, quantity, created_at)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(restock.key.as_str())
    .bind(restock.product.as_i64())
    .bind(warehouse)
    .bind(restock.quantity.get())
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    sqlx::query(
        "INSERT INTO inventory (product_id, warehouse_id, on_hand, reserved, updated_at)
         VALUES (?, ?, ?, 0, ?)
         ON CONFLICT (product_id, warehouse_id)
         DO UPDATE SET on_hand = on_hand + excluded.on_hand, updated_at = excluded.updated_at",
    )
    .bind(restock.product.as_i64())
    .bind(warehouse)
    .bind(restock.quantity.get())
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)?;
    Ok(RestockOutcome::Applied)
}

fn reserved_line_from_row(row: &SqliteRow) -> Result<ReservedLine, StoreError> {
    let product: i64 = row.try_get("product_id").map_err(from_sqlx)?;
    let warehouse: i64 = row.try_get("warehouse_id").map_err(from_sqlx)?;
    let sku: String = row.try_get("sku").map_err(from_sqlx)?;
    let quantity: i32 = row.try_get("quantity").map_err(from_sqlx)?;
    Ok(ReservedLine {
        product: ProductId::from_i64(product)
            .ok_or_else(|| corrupt(format!("reserved product id {product}")))?,
        sku: Sku::parse(&sku).map_err(corrupt)?,
        warehouse: WarehouseId::from_i64(warehouse)
            .ok_or_else(|| corrupt(format!("reserved warehouse id {warehouse}")))?,
        quantity: Quantity::new(quantity, "quantity").map_err(corrupt)?,
        unit_price_minor: row.try_get("unit_price_minor").map_err(from_sqlx)?,
    })
}

/// `held` sorted like the `lines` they were reserved for.
fn in_request_order(mut held: Vec<ReservedLine>, lines: &[LineRequest]) -> Vec<ReservedLine> {
    held.sort_by_key(|h| lines.iter().position(|l| l.product == h.product));
    held
}

pub(super) async fn reserve_stock(
    store: &SqliteStore,
    order: OrderId,
    currency: &Currency,
    lines: &[LineRequest],
) -> Result<Reservation, StoreError> {
    let mut distinct = HashSet::with_capacity(lines.len());
    if let Some(twice) = lines.iter().find(|l| !distinct.insert(l.product)) {
        return Err(StoreError::Other(format!(
            "product {} is on two lines of order {order}; merge them first",
            twice.product
        )));
    }
    let mut tx = store.write().await?;
    let earlier = sqlx::query(
        "SELECT product_id, warehouse_id, sku, quantity, unit_price_minor
         FROM stock_reservations WHERE order_id = ?",
    )
    .bind(order.as_i64())
    .fetch_all(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    if !earlier.is_empty() {
        let held = earlier
            .iter()
            .map(reserved_line_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit().await.map_err(from_sqlx)?;
        return Ok(Reservation::Held(in_request_order(held, lines)));
    }

    let now = now_ms();
    let mut held = Vec::with_capacity(lines.len());
    for line in lines {
        match hold_line(&mut tx, order, currency, line, now).await? {
            Ok(line) => held.push(line),
            Err(refusal) => {
                tx.rollback().await.map_err(from_sqlx)?;
                return Ok(refusal);
            }
        }
    }
    tx.commit().await.map_err(from_sqlx)?;
    Ok(Reservation::Held(held))
}

/// Holds stock for one line in one warehouse, or says why not (`Ok(Err(refusal))`); the caller
/// rolls back the lines held before a refusal.
async fn hold_line(
    conn: &mut SqliteConnection,
    order: OrderId,
    currency: &Currency,
    line: &LineRequest,
    now: i64,
) -> Result<Result<ReservedLine, Reservation>, StoreError> {
    let product = line.product;
    let quantity = line.quantity.get();
    let found = sqlx::query(
        "SELECT p.sku, p.active,
                (SELECT cp.amount_minor FROM current_prices cp
                  WHERE cp.product_id = p.id AND cp.currency = ?) AS price
         FROM products p WHERE p.id = ?",
    )
    .bind(currency.as_str())
    .bind(product.as_i64())
    .fetch_optional(&mut *conn)
    .await
    .map_err(from_sqlx)?;
    let Some(row) = found else {
        return Ok(Err(Reservation::Unavailable { product }));
    };
    if !row.try_get::<bool, _>("active").map_err(from_sqlx)? {
        return Ok(Err(Reservation::Unavailable { product }));
    }
    let Some(price) = row.try_get::<Option<i64>, _>("price").map_err(from_sqlx)? else {
        return Ok(Err(Reservation::NoPrice { product }));
    };
    let sku: String = row.try_get("sku").map_err(from_sqlx)?;

    // Of the warehouses that can serve the whole line, the one with the most units free.
    let warehouse: Option<i64> = sqlx::query_scalar(
        "SELECT warehouse_id FROM inventory
         WHERE product_id = ? AND on_hand - reserved >= ?
         ORDER BY on_hand - reserved DESC, warehouse_id LIMIT 1",
    )
    .bind(product.as_i64())
    .bind(quantity)
    .fetch_optional(&mut *conn)
    .await
    .map_err(from_sqlx)?;
    let Some(warehouse) = warehouse else {
        return Ok(Err(Reservation::Short { product }));
    };
    sqlx::query(
        "UPDATE inventory SET reserved = reserved + ?, updated_at = ?
         WHERE product_id = ? AND warehouse_id = ?",
    )
    .bind(quantity)
    .bind(now)
    .bind(product.as_i64())
    .bind(warehouse)
    .execute(&mut *conn)
    .await
    .map_err(from_sqlx)?;
    sqlx::query(
        "INSERT INTO stock_reservations (order_id, product_id, warehouse_id, sku, quantity,
                                         unit_price_minor, currency, state, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'held', ?)",
    )
    .bind(order.as_i64())
    .bind(product.as_i64())
    .bind(warehouse)
    .bind(&sku)
    .bind(quantity)
    .bind(price)
    .bind(currency.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(from_sqlx)?;
    Ok(Ok(ReservedLine {
        product,
        sku: Sku::parse(&sku).map_err(corrupt)?,
        warehouse: WarehouseId::from_i64(warehouse)
            .ok_or_else(|| corrupt(format!("warehouse id {warehouse}")))?,
        quantity: line.quantity,
        unit_price_minor: price,
    }))
}

pub(super) async fn release_stock(
    store: &SqliteStore,
    order: OrderId,
) -> Result<Vec<ProductId>, StoreError> {
    settle(store, order, Settle::Release).await
}

pub(super) async fn ship_stock(
    store: &SqliteStore,
    order: OrderId,
) -> Result<Vec<ProductId>, StoreError> {
    settle(store, order, Settle::Ship).await
}

/// How a held reservation stops being held.
#[derive(Clone, Copy)]
enum Settle {
    /// Its units are free again (`reserved` falls).
    Release,
    /// Its units left the warehouse (`on_hand` and `reserved` fall together).
    Ship,
}

/// Settles every held reservation of `order`; a repeat finds none held and changes nothing.
async fn settle(
    store: &SqliteStore,
    order: OrderId,
    how: Settle,
) -> Result<Vec<ProductId>, StoreError> {
    let mut tx = store.write().await?;
    let held = sqlx::query(
        "SELECT product_id, warehouse_id, quantity FROM stock_reservations
         WHERE order_id = ? AND state = 'held' ORDER BY product_id",
    )
    .bind(order.as_i64())
    .fetch_all(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    let now = now_ms();
    let (state, leaves) = match how {
        Settle::Release => ("released", 0),
        Settle::Ship => ("shipped", 1),
    };
    let mut settled = Vec::with_capacity(held.len());
    for row in &held {
        let product: i64 = row.try_get("product_id").map_err(from_sqlx)?;
        let warehouse: i64 = row.try_get("warehouse_id").map_err(from_sqlx)?;
        let quantity: i64 = row.try_get("quantity").map_err(from_sqlx)?;
        let updated = sqlx::query(
            "UPDATE inventory SET reserved = reserved - ?1, on_hand = on_hand - ?1 * ?2,
                                  updated_at = ?3
             WHERE product_id = ?4 AND warehouse_id = ?5",
        )
        .bind(quantity)
        .bind(leaves)
        .bind(now)
        .bind(product)
        .bind(warehouse)
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        if updated.rows_affected() != 1 {
            return Err(corrupt(format!(
                "order {order} holds product {product} in warehouse {warehouse} without stock"
            )));
        }
        settled.push(
            ProductId::from_i64(product)
                .ok_or_else(|| corrupt(format!("reserved product id {product}")))?,
        );
    }
    sqlx::query(
        "UPDATE stock_reservations SET state = ?, settled_at = ?
         WHERE order_id = ? AND state = 'held'",
    )
    .bind(state)
    .bind(now)
    .bind(order.as_i64())
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)?;
    Ok(settled)
}

/// The rows of the `commerce_inventory_drift` view (migration 0010).
pub(super) async fn inventory_drift(
    store: &SqliteStore,
) -> Result<Vec<InventoryDrift>, StoreError> {
    let found: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT product_id, warehouse_id, reserved, held FROM commerce_inventory_drift
         ORDER BY product_id, warehouse_id",
    )
    .fetch_all(&store.pool)
    .await
    .map_err(from_sqlx)?;
    found
        .into_iter()
        .map(|(product, warehouse, reserved, held)| {
            Ok(InventoryDrift {
                product: ProductId::from_i64(product)
                    .ok_or_else(|| corrupt(format!("product id {product}")))?,
                warehouse: WarehouseId::from_i64(warehouse)
                    .ok_or_else(|| corrupt(format!("warehouse id {warehouse}")))?,
                reserved,
                held,
            })
        })
        .collect()
}
