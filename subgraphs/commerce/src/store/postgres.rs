//! The Postgres adapter of [`CommerceStore`].
//!
//! Non-obvious: besides the client-side call timeout, every connection sets a server-side
//! `statement_timeout`, so a query abandoned by a timed-out caller does not keep running.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Row};

use super::{CommerceStore, StoreError, corrupt, from_sqlx, instrumented};
use crate::domain::{
    CancelOutcome, CategorySlug, Currency, IdempotencyKey, LineRequest, Money, NewProduct, Order,
    OrderCursor, OrderRequest, Product, Reservation, Restock, RestockOutcome, Sku, WarehouseCode,
};
use crate::domain::{DisplayName, Email, NewUser, PasswordHash, User, UserWithHash};
use crate::ids::UserId;
use crate::ids::{OrderId, ProductId};

const ENGINE: &str = "postgres";
const USER_COLUMNS: &str = "id, email, name, staff, created_at";

pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects with a bounded pool and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        let options = PgConnectOptions::from_str(url)?
            .application_name("polygate-commerce")
            .options([("statement_timeout", "5s"), ("lock_timeout", "2s")]);
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(3))
            .idle_timeout(Duration::from_secs(300))
            .connect_with(options)
            .await?;
        crate::migrate::postgres(&pool).await?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

fn user_from_row(row: &PgRow) -> Result<User, StoreError> {
    let raw_id: i64 = row.try_get("id").map_err(from_sqlx)?;
    let email: String = row.try_get("email").map_err(from_sqlx)?;
    let name: String = row.try_get("name").map_err(from_sqlx)?;
    Ok(User {
        id: UserId::from_i64(raw_id).ok_or_else(|| corrupt(format!("id {raw_id}")))?,
        email: Email::parse(&email).map_err(corrupt)?,
        name: DisplayName::parse(&name).map_err(corrupt)?,
        staff: row.try_get("staff").map_err(from_sqlx)?,
        created_at: row
            .try_get::<DateTime<Utc>, _>("created_at")
            .map_err(from_sqlx)?,
    })
}

fn users_from_rows(rows: &[PgRow]) -> Result<Vec<User>, StoreError> {
    rows.iter().map(user_from_row).collect()
}

#[async_trait]
impl CommerceStore for PostgresStore {
    async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        instrumented(ENGINE, "create_user", async {
            // Millisecond precision, so both engines return the same instant.
            let created_at = Utc::now().trunc_subsecs(3);
            sqlx::query(
                "INSERT INTO users (id, email, name, password_hash, staff, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(new.id.as_i64())
            .bind(new.email.as_str())
            .bind(new.name.as_str())
            .bind(new.password_hash.as_str())
            .bind(new.staff)
            .bind(created_at)
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
                format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(email) = $1");
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
        let raw: Vec<i64> = ids.iter().map(|id| id.as_i64()).collect();
        instrumented(ENGINE, "users_by_ids", async {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ANY($1)");
            let rows = sqlx::query(&sql)
                .bind(&raw)
                .fetch_all(&self.pool)
                .await
                .map_err(from_sqlx)?;
            users_from_rows(&rows)
        })
        .await
    }

    async fn list_users(&self, first: u32, after: Option<UserId>) -> Result<Vec<User>, StoreError> {
        instrumented(ENGINE, "list_users", async {
            let sql =
                format!("SELECT {USER_COLUMNS} FROM users WHERE id > $1 ORDER BY id LIMIT $2");
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
