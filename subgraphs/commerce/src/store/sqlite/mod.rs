//! The SQLite adapter of [`CommerceStore`]: one database file under a data directory, which
//! plays both roles Postgres splits across databases (catalog and buyer's shard), so every saga
//! step is one local transaction. One file per area: `users`, `catalog`, `orders`.
//!
//! Non-obvious: SQLite has one writer at a time, and a transaction that reads before it writes
//! cannot wait for the write lock (the upgrade fails at once with "database is locked", whatever
//! the busy timeout). So every write runs in a transaction begun with `BEGIN IMMEDIATE`, which
//! takes the write lock first and queues on the busy timeout; concurrent writers serialise
//! instead of failing. Batches of ids travel as one JSON array expanded with `json_each`, so a
//! batch of any size is one statement with one bound parameter (SQLite caps `?` placeholders).
//! Times are Unix milliseconds.

mod addresses;
mod catalog;
mod fulfilment;
mod orders;
mod payments;
mod users;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use super::{CommerceStore, StoreError, corrupt, from_sqlx, instrumented, instrumented_batch};
use crate::domain::{
    AddAddressOutcome, Address, ArchiveReport, CancelOutcome, CategorySlug, Currency, Email,
    IdempotencyKey, InventoryDrift, LineRequest, Lines, Money, NewAddress, NewPayment, NewProduct,
    NewUser, OpenPayment, Order, OrderCursor, OrderRequest, OrderStatus, Payment, PaymentEvent,
    PaymentUpdate, PlacedAtOnce, Product, Reservation, Restock, RestockOutcome, Sku, StatusChange,
    User, UserWithHash, WarehouseCode,
};
use crate::ids::{OrderId, PaymentId, ProductId, UserId};

const ENGINE: &str = "sqlite";

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating file and parent directories if needed) and migrates the database at `path`.
    pub async fn open(path: &Path) -> Result<Self, sqlx::Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(3))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(3))
            .connect_with(options)
            .await?;
        crate::migrate::sqlite(&pool).await?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A write transaction holding the database's write lock from its first statement.
    async fn write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(from_sqlx)
    }
}

/// The current instant in Unix milliseconds, the precision stored.
fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// A stored Unix-millisecond column as an instant; `what` names it if it is out of range.
fn time_from_ms(ms: i64, what: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| corrupt(format!("{what} {ms}")))
}

/// `items` as one JSON array, for a `json_each(?)` parameter.
fn json_array<T: Serialize>(items: impl IntoIterator<Item = T>) -> Result<String, StoreError> {
    serde_json::to_string(&items.into_iter().collect::<Vec<T>>())
        .map_err(|e| StoreError::Other(e.to_string()))
}

#[async_trait]
impl CommerceStore for SqliteStore {
    async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        instrumented(ENGINE, "create_user", users::create_user(self, new)).await
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<UserWithHash>, StoreError> {
        instrumented(ENGINE, "user_by_email", users::user_by_email(self, email)).await
    }

    async fn users_by_ids(&self, ids: &[UserId]) -> Result<Vec<User>, StoreError> {
        instrumented_batch(ENGINE, "users_by_ids", ids, users::users_by_ids(self, ids)).await
    }

    async fn users_by_emails(&self, emails: &[Email]) -> Result<Vec<User>, StoreError> {
        instrumented_batch(
            ENGINE,
            "users_by_emails",
            emails,
            users::users_by_emails(self, emails),
        )
        .await
    }

    async fn list_users(&self, first: u32, after: Option<UserId>) -> Result<Vec<User>, StoreError> {
        instrumented(ENGINE, "list_users", users::list_users(self, first, after)).await
    }

    async fn create_product(&self, new: NewProduct) -> Result<Product, StoreError> {
        instrumented(ENGINE, "create_product", catalog::create_product(self, new)).await
    }

    async fn products_by_ids(
        &self,
        ids: &[ProductId],
        _reader: Option<UserId>,
    ) -> Result<Vec<Product>, StoreError> {
        instrumented_batch(
            ENGINE,
            "products_by_ids",
            ids,
            catalog::products_by_ids(self, ids),
        )
        .await
    }

    async fn products_by_skus(
        &self,
        skus: &[Sku],
        _reader: Option<UserId>,
    ) -> Result<Vec<Product>, StoreError> {
        instrumented_batch(
            ENGINE,
            "products_by_skus",
            skus,
            catalog::products_by_skus(self, skus),
        )
        .await
    }

    async fn product_ids_by_skus(&self, skus: &[Sku]) -> Result<Vec<(Sku, ProductId)>, StoreError> {
        instrumented_batch(
            ENGINE,
            "product_ids_by_skus",
            skus,
            catalog::product_ids_by_skus(self, skus),
        )
        .await
    }

    async fn list_products(
        &self,
        category: Option<&CategorySlug>,
        first: u32,
        after: Option<ProductId>,
    ) -> Result<Vec<Product>, StoreError> {
        let call = catalog::list_products(self, category, first, after);
        instrumented(ENGINE, "list_products", call).await
    }

    async fn set_price(&self, product: ProductId, price: Money) -> Result<(), StoreError> {
        instrumented(
            ENGINE,
            "set_price",
            catalog::set_price(self, product, price),
        )
        .await
    }

    async fn ensure_warehouse(
        &self,
        code: &WarehouseCode,
        name: &str,
        country: &str,
    ) -> Result<(), StoreError> {
        let call = catalog::ensure_warehouse(self, code, name, country);
        instrumented(ENGINE, "ensure_warehouse", call).await
    }

    async fn restock(&self, restock: &Restock) -> Result<RestockOutcome, StoreError> {
        instrumented(ENGINE, "restock", catalog::restock(self, restock)).await
    }

    /// Not here: the saga is correct on SQLite too, and embedded mode is not the throughput path.
    async fn place_order_at_once(
        &self,
        _request: &OrderRequest,
    ) -> Result<Option<PlacedAtOnce>, StoreError> {
        Ok(None)
    }

    async fn open_order_request(&self, request: &OrderRequest) -> Result<OrderRequest, StoreError> {
        let call = orders::open_order_request(self, request);
        instrumented(ENGINE, "open_order_request", call).await
    }

    async fn reserve_stock(
        &self,
        order: OrderId,
        currency: &Currency,
        lines: &[LineRequest],
    ) -> Result<Reservation, StoreError> {
        let call = catalog::reserve_stock(self, order, currency, lines);
        instrumented(ENGINE, "reserve_stock", call).await
    }

    async fn record_order(&self, order: &Order, key: &IdempotencyKey) -> Result<(), StoreError> {
        instrumented(
            ENGINE,
            "record_order",
            orders::record_order(self, order, key),
        )
        .await
    }

    async fn reject_order_request(
        &self,
        user: UserId,
        key: &IdempotencyKey,
    ) -> Result<(), StoreError> {
        let call = orders::reject_order_request(self, user, key);
        instrumented(ENGINE, "reject_order_request", call).await
    }

    async fn mark_order_cancelled(&self, order: OrderId) -> Result<CancelOutcome, StoreError> {
        let call = orders::mark_order_cancelled(self, order);
        instrumented(ENGINE, "mark_order_cancelled", call).await
    }

    async fn release_stock(&self, order: OrderId) -> Result<Vec<ProductId>, StoreError> {
        instrumented(ENGINE, "release_stock", catalog::release_stock(self, order)).await
    }

    async fn finish_cancellation(&self, order: OrderId) -> Result<(), StoreError> {
        let call = orders::finish_cancellation(self, order);
        instrumented(ENGINE, "finish_cancellation", call).await
    }

    async fn unfinished_order_requests(
        &self,
        older_than: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OrderRequest>, StoreError> {
        let call = orders::unfinished_order_requests(self, older_than, limit);
        instrumented(ENGINE, "unfinished_order_requests", call).await
    }

    async fn add_address(&self, new: &NewAddress) -> Result<AddAddressOutcome, StoreError> {
        instrumented(ENGINE, "add_address", addresses::add_address(self, new)).await
    }

    async fn addresses(&self, user: UserId) -> Result<Vec<Address>, StoreError> {
        instrumented(ENGINE, "addresses", addresses::addresses(self, user)).await
    }

    async fn open_payment(&self, new: &NewPayment) -> Result<OpenPayment, StoreError> {
        instrumented(ENGINE, "open_payment", payments::open_payment(self, new)).await
    }

    async fn record_payment(
        &self,
        payment: PaymentId,
        event: &PaymentEvent,
    ) -> Result<PaymentUpdate, StoreError> {
        let call = payments::record_payment(self, payment, event);
        instrumented(ENGINE, "record_payment", call).await
    }

    async fn payments_of(
        &self,
        orders: &[OrderId],
        _reader: Option<UserId>,
    ) -> Result<Vec<Payment>, StoreError> {
        let call = payments::payments_of(self, orders);
        instrumented_batch(ENGINE, "payments_of", orders, call).await
    }

    async fn mark_order_shipping(&self, order: OrderId) -> Result<StatusChange, StoreError> {
        let call = fulfilment::change_status(self, order, OrderStatus::Shipped);
        instrumented(ENGINE, "mark_order_shipping", call).await
    }

    async fn ship_stock(&self, order: OrderId) -> Result<Vec<ProductId>, StoreError> {
        instrumented(ENGINE, "ship_stock", catalog::ship_stock(self, order)).await
    }

    async fn finish_shipping(&self, order: OrderId) -> Result<(), StoreError> {
        let call = fulfilment::finish_shipping(self, order);
        instrumented(ENGINE, "finish_shipping", call).await
    }

    async fn mark_order_delivered(&self, order: OrderId) -> Result<StatusChange, StoreError> {
        let call = fulfilment::change_status(self, order, OrderStatus::Delivered);
        instrumented(ENGINE, "mark_order_delivered", call).await
    }

    async fn archive_settled(
        &self,
        orders_before: DateTime<Utc>,
        as_of: DateTime<Utc>,
        batch: u32,
    ) -> Result<ArchiveReport, StoreError> {
        let call = orders::archive_settled(self, orders_before, as_of, batch);
        instrumented(ENGINE, "archive_settled", call).await
    }

    async fn stock_held_without_request(&self, limit: u32) -> Result<Vec<OrderId>, StoreError> {
        instrumented(ENGINE, "stock_held_without_request", async {
            // One file holds both tables, so one query (a restore of the file is one moment).
            let raw: Vec<i64> = sqlx::query_scalar(
                "SELECT DISTINCT r.order_id FROM stock_reservations r
                 WHERE r.state = 'held'
                   AND NOT EXISTS (SELECT 1 FROM order_requests q WHERE q.order_id = r.order_id)
                   AND NOT EXISTS (SELECT 1 FROM order_requests_archive a
                                   WHERE a.order_id = r.order_id)
                 ORDER BY r.order_id LIMIT ?",
            )
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(from_sqlx)?;
            raw.into_iter()
                .map(|id| OrderId::from_i64(id).ok_or_else(|| corrupt(format!("order id {id}"))))
                .collect()
        })
        .await
    }

    async fn inventory_drift(&self) -> Result<Vec<InventoryDrift>, StoreError> {
        instrumented(ENGINE, "inventory_drift", catalog::inventory_drift(self)).await
    }

    async fn orders_by_ids(
        &self,
        ids: &[OrderId],
        _reader: Option<UserId>,
    ) -> Result<Vec<Order>, StoreError> {
        instrumented_batch(
            ENGINE,
            "orders_by_ids",
            ids,
            orders::orders_by_ids(self, ids),
        )
        .await
    }

    async fn order_history(
        &self,
        user: UserId,
        first: u32,
        after: Option<OrderCursor>,
        lines: Lines,
        _reader: Option<UserId>,
    ) -> Result<Vec<Order>, StoreError> {
        let call = orders::order_history(self, user, first, after, lines);
        instrumented(ENGINE, "order_history", call).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        instrumented(ENGINE, "ping", async {
            sqlx::query("SELECT 1")
                .execute(&self.pool)
                .await
                .map(drop)
                .map_err(from_sqlx)
        })
        .await
    }

    fn engine(&self) -> &'static str {
        ENGINE
    }
}
