//! Address book queries (the user's shard database).
//!
//! Non-obvious: adding an address locks the user's row first, so two adds racing for the last
//! free place in a book cannot both pass the count; the fence comes first like every shard write.

use sqlx::PgPool;

use super::orders::fence;
use super::rows;
use crate::domain::{AddAddressOutcome, Address, MAX_ADDRESSES_PER_USER, NewAddress};
use crate::ids::UserId;
use crate::store::{StoreError, from_sqlx};

const ADDRESSES_OF_USER: &str =
    include_str!("../../../../../sql/commerce/postgres/queries/addresses_of_user.sql");

pub async fn add(pool: &PgPool, new: &NewAddress) -> Result<AddAddressOutcome, StoreError> {
    let mut tx = pool.begin().await.map_err(from_sqlx)?;
    fence(&mut tx, new.user.shard()).await?;
    let user: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1 FOR UPDATE")
        .bind(new.user.as_i64())
        .fetch_optional(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    if user.is_none() {
        return Ok(AddAddressOutcome::UnknownUser);
    }
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM addresses WHERE user_id = $1")
        .bind(new.user.as_i64())
        .fetch_one(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    if kept >= MAX_ADDRESSES_PER_USER as i64 {
        return Ok(AddAddressOutcome::BookFull);
    }
    let a = &new.address;
    let row = sqlx::query(
        "INSERT INTO addresses (id, user_id, label, recipient, line1, line2, city, region,
                                postal_code, country, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, date_trunc('milliseconds', now()))
         RETURNING id, user_id, label, recipient, line1, line2, city, region, postal_code,
                   country, created_at",
    )
    .bind(new.id.as_i64())
    .bind(new.user.as_i64())
    .bind(new.label.as_deref())
    .bind(&a.recipient)
    .bind(&a.line1)
    .bind(a.line2.as_deref())
    .bind(&a.city)
    .bind(a.region.as_deref())
    .bind(a.postal_code.as_deref())
    .bind(&a.country)
    .fetch_one(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)?;
    rows::address(&row).map(AddAddressOutcome::Added)
}

pub async fn of_user(pool: &PgPool, user: UserId) -> Result<Vec<Address>, StoreError> {
    let found = sqlx::query(ADDRESSES_OF_USER)
        .bind(user.as_i64())
        .bind(MAX_ADDRESSES_PER_USER as i64)
        .fetch_all(pool)
        .await
        .map_err(from_sqlx)?;
    found.iter().map(rows::address).collect()
}
