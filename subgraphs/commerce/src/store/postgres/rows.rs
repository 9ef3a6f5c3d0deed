//! Decoding rows into domain values. A row that breaks a domain rule is `corrupt`: only a bug
//! or a hand edit produces one.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::domain::{
    Address, AddressParts, CategorySlug, Currency, DisplayName, Email, IdempotencyKey, LineRequest,
    Money, Order, OrderLine, OrderRequest, OrderStatus, Payment, PaymentStatus, PostalAddress,
    Product, ProductName, ProviderRef, Quantity, RequestState, ReservedLine, Sku, User,
};
use crate::ids::{AddressId, OrderId, PaymentId, ProductId, UserId, WarehouseId};
use crate::store::{StoreError, corrupt, from_sqlx};

pub fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
    row: &'r PgRow,
    column: &str,
) -> Result<T, StoreError> {
    row.try_get(column).map_err(from_sqlx)
}

fn id<T>(raw: i64, wrap: fn(i64) -> Option<T>, what: &str) -> Result<T, StoreError> {
    wrap(raw).ok_or_else(|| corrupt(format!("{what} id {raw}")))
}

pub fn user_id(raw: i64) -> Result<UserId, StoreError> {
    id(raw, UserId::from_i64, "user")
}

pub fn product_id(raw: i64) -> Result<ProductId, StoreError> {
    id(raw, ProductId::from_i64, "product")
}

pub fn order_id(raw: i64) -> Result<OrderId, StoreError> {
    id(raw, OrderId::from_i64, "order")
}

pub fn sku(raw: &str) -> Result<Sku, StoreError> {
    Sku::parse(raw).map_err(corrupt)
}

pub fn currency(raw: &str) -> Result<Currency, StoreError> {
    Currency::parse(raw).map_err(corrupt)
}

pub fn quantity(raw: i32) -> Result<Quantity, StoreError> {
    Quantity::new(raw, "quantity").map_err(corrupt)
}

pub const USER_COLUMNS: &str = "id, email, name, staff, created_at";

pub fn user(row: &PgRow) -> Result<User, StoreError> {
    Ok(User {
        id: user_id(get(row, "id")?)?,
        email: Email::parse(&get::<String>(row, "email")?).map_err(corrupt)?,
        name: DisplayName::parse(&get::<String>(row, "name")?).map_err(corrupt)?,
        staff: get(row, "staff")?,
        created_at: get(row, "created_at")?,
    })
}

#[derive(serde::Deserialize)]
struct StoredPrice {
    amount_minor: i64,
    currency: String,
}

pub fn product(row: &PgRow) -> Result<Product, StoreError> {
    let prices: serde_json::Value = get(row, "prices")?;
    let prices: Vec<StoredPrice> = serde_json::from_value(prices).map_err(corrupt)?;
    Ok(Product {
        id: product_id(get(row, "id")?)?,
        sku: sku(&get::<String>(row, "sku")?)?,
        name: ProductName::parse(&get::<String>(row, "name")?).map_err(corrupt)?,
        description: get(row, "description")?,
        category: get::<Option<String>>(row, "category")?
            .map(|c| CategorySlug::parse(&c).map_err(corrupt))
            .transpose()?,
        active: get(row, "active")?,
        prices: prices
            .into_iter()
            .map(|p| Money::new(p.amount_minor, currency(&p.currency)?).map_err(corrupt))
            .collect::<Result<_, _>>()?,
        available: get(row, "available")?,
        created_at: get(row, "created_at")?,
    })
}

/// An order without its lines (they come from a second query).
pub fn order_head(row: &PgRow) -> Result<Order, StoreError> {
    let status: String = get(row, "status")?;
    Ok(Order {
        id: order_id(get(row, "id")?)?,
        user: user_id(get(row, "user_id")?)?,
        status: OrderStatus::parse(&status).ok_or_else(|| corrupt(format!("status {status}")))?,
        currency: currency(&get::<String>(row, "currency")?)?,
        total_minor: get(row, "total_minor")?,
        lines: Vec::new(),
        ship_to: ship_to(get(row, "ship_to")?)?,
        created_at: get(row, "created_at")?,
    })
}

/// A stored shipping address snapshot; `{}` (orders from before addresses) and NULL are `None`.
pub fn ship_to(stored: Option<serde_json::Value>) -> Result<Option<PostalAddress>, StoreError> {
    match stored {
        None => Ok(None),
        Some(serde_json::Value::Object(map)) if map.is_empty() => Ok(None),
        Some(value) => PostalAddress::from_json(value)
            .map(Some)
            .map_err(|e| corrupt(format!("ship_to: {e}"))),
    }
}

/// A row of queries/addresses_of_user.sql.
pub fn address(row: &PgRow) -> Result<Address, StoreError> {
    let text = |column: &str| get::<String>(row, column);
    let maybe = |column: &str| get::<Option<String>>(row, column);
    let (recipient, line1, city, country) = (
        text("recipient")?,
        text("line1")?,
        text("city")?,
        text("country")?,
    );
    let (line2, region, postal_code) = (maybe("line2")?, maybe("region")?, maybe("postal_code")?);
    let address = PostalAddress::parse(&AddressParts {
        recipient: &recipient,
        line1: &line1,
        line2: line2.as_deref(),
        city: &city,
        region: region.as_deref(),
        postal_code: postal_code.as_deref(),
        country: &country,
    })
    .map_err(corrupt)?;
    let raw_id: i64 = get(row, "id")?;
    Ok(Address {
        id: id(raw_id, AddressId::from_i64, "address")?,
        user: user_id(get(row, "user_id")?)?,
        label: maybe("label")?,
        address,
        created_at: get(row, "created_at")?,
    })
}

/// A row of queries/payments_of_orders.sql.
pub fn payment(row: &PgRow) -> Result<Payment, StoreError> {
    let status: String = get(row, "status")?;
    Ok(Payment {
        id: id(get(row, "id")?, PaymentId::from_i64, "payment")?,
        order: order_id(get(row, "order_id")?)?,
        amount_minor: get(row, "amount_minor")?,
        currency: currency(&get::<String>(row, "currency")?)?,
        status: PaymentStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("payment status {status}")))?,
        provider: get(row, "provider")?,
        provider_ref: get::<Option<String>>(row, "provider_ref")?
            .map(|r| ProviderRef::parse(&r).map_err(corrupt))
            .transpose()?,
        failure: get(row, "failure")?,
        created_at: get(row, "created_at")?,
    })
}

/// `(order id, line)` from order_lines.sql.
pub fn order_line(row: &PgRow) -> Result<(OrderId, OrderLine), StoreError> {
    Ok((
        order_id(get(row, "order_id")?)?,
        OrderLine {
            product: product_id(get(row, "product_id")?)?,
            sku: sku(&get::<String>(row, "sku")?)?,
            quantity: quantity(get(row, "quantity")?)?,
            unit_price_minor: get(row, "unit_price_minor")?,
        },
    ))
}

/// A held line from columns `product_id, warehouse_id, sku, quantity, unit_price_minor`.
pub fn reserved_line(row: &PgRow) -> Result<ReservedLine, StoreError> {
    Ok(ReservedLine {
        product: product_id(get(row, "product_id")?)?,
        warehouse: id(
            get(row, "warehouse_id")?,
            WarehouseId::from_i64,
            "warehouse",
        )?,
        sku: sku(&get::<String>(row, "sku")?)?,
        quantity: quantity(get(row, "quantity")?)?,
        unit_price_minor: get(row, "unit_price_minor")?,
    })
}

pub fn order_request(row: &PgRow) -> Result<OrderRequest, StoreError> {
    let state: String = get(row, "state")?;
    let lines: serde_json::Value = get(row, "lines")?;
    let lines: Vec<LineRequest> = serde_json::from_value(lines).map_err(corrupt)?;
    let created_at: DateTime<Utc> = get(row, "order_created_at")?;
    Ok(OrderRequest {
        user: user_id(get(row, "user_id")?)?,
        key: IdempotencyKey::parse(&get::<String>(row, "idempotency_key")?).map_err(corrupt)?,
        fingerprint: get(row, "fingerprint")?,
        order_id: order_id(get(row, "order_id")?)?,
        created_at,
        currency: currency(&get::<String>(row, "currency")?)?,
        lines,
        ship_to: ship_to(get(row, "ship_to")?)?,
        state: RequestState::parse(&state).ok_or_else(|| corrupt(format!("state {state}")))?,
    })
}
