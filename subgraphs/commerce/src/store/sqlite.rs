//! The SQLite adapter of [`CommerceStore`]: one database file under a data directory.
//!
//! Non-obvious: `users_by_ids` passes the ids as one JSON array and expands it with `json_each`,
//! so a batch of any size is one statement with one bound parameter (SQLite caps the number of
//! `?` placeholders). `created_at` is stored as Unix milliseconds.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};

use super::{CommerceStore, StoreError, corrupt, from_sqlx, instrumented};
use crate::domain::{
    CancelOutcome, CategorySlug, Currency, IdempotencyKey, LineRequest, Money, NewProduct, Order,
    OrderCursor, OrderRequest, Product, Reservation, Restock, RestockOutcome, Sku, WarehouseCode,
};
use crate::domain::{DisplayName, Email, NewUser, PasswordHash, User, UserWithHash};
use crate::ids::UserId;
use crate::ids::{OrderId, ProductId};

const ENGINE: &str = "sqlite";
const USER_COLUMNS: &str = "id, email, name, staff, created_at";

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
}

fn user_from_row(row: &SqliteRow) -> Result<User, StoreError> {
    let raw_id: i64 = row.try_get("id").map_err(from_sqlx)?;
    let email: String = row.try_get("email").map_err(from_sqlx)?;
    let name: String = row.try_get("name").map_err(from_sqlx)?;
    let created_ms: i64 = row.try_get("created_at").map_err(from_sqlx)?;
    Ok(User {
        id: UserId::from_i64(raw_id).ok_or_else(|| corrupt(format!("id {raw_id}")))?,
        email: Email::parse(&email).map_err(corrupt)?,
        name: DisplayName::parse(&name).map_err(corrupt)?,
        staff: row.try_get("staff").map_err(from_sqlx)?,
        created_at: DateTime::from_timestamp_millis(created_ms)
            .ok_or_else(|| corrupt(format!("created_at {created_ms}")))?,
    })
}

fn users_from_rows(rows: &[SqliteRow]) -> Result<Vec<User>, StoreError> {
    rows.iter().map(user_from_row).collect()
}

#[async_trait]
impl CommerceStore for SqliteStore {
    async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        instrumented(ENGINE, "create_user", async {
            let created_at = Utc::now().trunc_subsecs(3);
            sqlx::query(
                "INSERT INTO users (id, email, name, password_hash, staff, created_at)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(new.id.as_i64())
            .bind(new.email.as_str())
            .bind(new.name.as_str())
            .bind(new.password_hash.as_str())
            .bind(new.staff)
            .bind(created_at.timestamp_millis())
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
            Ok(User {
                id: new.id,
                email: new.email,
                name: new.name,
                staff: new.staff,
                created_at,
            })
        })
        .await
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<UserWithHash>, StoreError> {
        instrumented(ENGINE, "user_by_email", async {
            let sql =
                format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(email) = ?");
            let row = sqlx::query(&sql)
                .bind(email.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(from_sqlx)?;
            row.map(|row| {
                Ok(UserWithHash {
                    user: user_from_row(&row)?,
                    password_hash: PasswordHash::from_phc(
                        row.try_get("password_hash").map_err(from_sqlx)?,
                    ),
                })
            })
            .transpose()
        })
        .await
    }

    async fn users_by_ids(&self, ids: &[UserId]) -> Result<Vec<User>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let json = serde_json::to_string(&ids.iter().map(|id| id.as_i64()).collect::<Vec<_>>())
            .map_err(|e| StoreError::Other(e.to_string()))?;
        instrumented(ENGINE, "users_by_ids", async {
            let sql = format!(
                "SELECT {USER_COLUMNS} FROM users WHERE id IN (SELECT value FROM json_each(?))"
            );
            let rows = sqlx::query(&sql)
                .bind(&json)
                .fetch_all(&self.pool)
                .await
                .map_err(from_sqlx)?;
            users_from_rows(&rows)
        })
        .await
    }

    async fn list_users(&self, first: u32, after: Option<UserId>) -> Result<Vec<User>, StoreError> {
        instrumented(ENGINE, "list_users", async {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id > ? ORDER BY id LIMIT ?");
            let rows = sqlx::query(&sql)
                .bind(after.map_or(0, UserId::as_i64))
                .bind(i64::from(first))
                .fetch_all(&self.pool)
                .await
                .map_err(from_sqlx)?;
            users_from_rows(&rows)
        })
        .await
    }

    async fn create_product(&self, _new: NewProduct) -> Result<Product, StoreError> {
        todo!()
    }
    async fn products_by_ids(
        &self,
        _ids: &[ProductId],
        _reader: Option<UserId>,
    ) -> Result<Vec<Product>, StoreError> {
        todo!()
    }
    async fn products_by_skus(
        &self,
        _skus: &[Sku],
        _reader: Option<UserId>,
    ) -> Result<Vec<Product>, StoreError> {
        todo!()
    }
    async fn list_products(
        &self,
        _category: Option<&CategorySlug>,
        _first: u32,
        _after: Option<ProductId>,
    ) -> Result<Vec<Product>, StoreError> {
        todo!()
    }
    async fn set_price(&self, _product: ProductId, _price: Money) -> Result<(), StoreError> {
        todo!()
    }
    async fn ensure_warehouse(
        &self,
        _code: &WarehouseCode,
        _name: &str,
        _country: &str,
    ) -> Result<(), StoreError> {
        todo!()
    }
    async fn restock(&self, _restock: &Restock) -> Result<RestockOutcome, StoreError> {
        todo!()
    }
    async fn open_order_request(
        &self,
        _request: &OrderRequest,
    ) -> Result<OrderRequest, StoreError> {
        todo!()
    }
    async fn reserve_stock(
        &self,
        _order: OrderId,
        _currency: &Currency,
        _lines: &[LineRequest],
    ) -> Result<Reservation, StoreError> {
        todo!()
    }
    async fn record_order(&self, _order: &Order, _key: &IdempotencyKey) -> Result<(), StoreError> {
        todo!()
    }
    async fn reject_order_request(
        &self,
        _user: UserId,
        _key: &IdempotencyKey,
    ) -> Result<(), StoreError> {
        todo!()
    }
    async fn mark_order_cancelled(&self, _order: OrderId) -> Result<CancelOutcome, StoreError> {
        todo!()
    }
    async fn release_stock(&self, _order: OrderId) -> Result<Vec<ProductId>, StoreError> {
        todo!()
    }
    async fn finish_cancellation(&self, _order: OrderId) -> Result<(), StoreError> {
        todo!()
    }
    async fn unfinished_order_requests(
        &self,
        _older_than: DateTime<Utc>,
        _limit: u32,
    ) -> Result<Vec<OrderRequest>, StoreError> {
        todo!()
    }
    async fn orders_by_ids(
        &self,
        _ids: &[OrderId],
        _reader: Option<UserId>,
    ) -> Result<Vec<Order>, StoreError> {
        todo!()
    }
    async fn order_history(
        &self,
        _user: UserId,
        _first: u32,
        _after: Option<OrderCursor>,
        _reader: Option<UserId>,
    ) -> Result<Vec<Order>, StoreError> {
        todo!()
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
