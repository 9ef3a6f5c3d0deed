//! User queries: rows on the user's shard, the email index in the catalog database.
//!
//! Non-obvious: every write here is an explicit transaction committed before the function
//! returns, even a single statement. Behind a transaction pooler (`transaction_pooler`), a
//! statement outside one would commit only when its connection went back to the pool, after the
//! caller had moved on.

use sqlx::PgPool;

use super::orders::fence;
use super::rows::{self, USER_COLUMNS};
use crate::domain::{Email, NewUser, PasswordHash, User, UserWithHash};
use crate::ids::UserId;
use crate::store::{StoreError, from_sqlx};

/// What claiming an email in the catalog found.
pub enum Claim {
    Claimed,
    /// Someone claimed it; `stale` when the claim is old enough that an owner who never
    /// appeared on their shard (a crash between claim and insert) can be replaced.
    Taken {
        by: UserId,
        stale: bool,
    },
}

/// A claim this old whose user does not exist is a leftover of a crashed registration.
const STALE_CLAIM: &str = "1 minute";

pub async fn claim_email(
    catalog: &PgPool,
    email: &Email,
    user: UserId,
) -> Result<Claim, StoreError> {
    let mut tx = catalog.begin().await.map_err(from_sqlx)?;
    let claimed = sqlx::query(
        "INSERT INTO user_emails (email, user_id) VALUES ($1, $2) ON CONFLICT (email) DO NOTHING",
    )
    .bind(email.as_str())
    .bind(user.as_i64())
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .rows_affected();
    if claimed == 1 {
        tx.commit().await.map_err(from_sqlx)?;
        return Ok(Claim::Claimed);
    }
    let (by, stale): (i64, bool) = sqlx::query_as(&format!(
        "SELECT user_id, claimed_at < now() - interval '{STALE_CLAIM}' FROM user_emails WHERE email = $1"
    ))
    .bind(email.as_str())
    .fetch_one(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)?;
    Ok(Claim::Taken {
        by: rows::user_id(by)?,
        stale,
    })
}

/// Moves a stale claim from `from` to `to`; false when someone else changed it first.
pub async fn take_over_claim(
    catalog: &PgPool,
    email: &Email,
    from: UserId,
    to: UserId,
) -> Result<bool, StoreError> {
    let mut tx = catalog.begin().await.map_err(from_sqlx)?;
    let moved = sqlx::query(
        "UPDATE user_emails SET user_id = $3, claimed_at = now() WHERE email = $1 AND user_id = $2",
    )
    .bind(email.as_str())
    .bind(from.as_i64())
    .bind(to.as_i64())
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?
    .rows_affected();
    tx.commit().await.map_err(from_sqlx)?;
    Ok(moved == 1)
}

pub async fn release_claim(
    catalog: &PgPool,
    email: &Email,
    user: UserId,
) -> Result<(), StoreError> {
    let mut tx = catalog.begin().await.map_err(from_sqlx)?;
    sqlx::query("DELETE FROM user_emails WHERE email = $1 AND user_id = $2")
        .bind(email.as_str())
        .bind(user.as_i64())
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)
}

pub async fn claimed_by(catalog: &PgPool, email: &Email) -> Result<Option<UserId>, StoreError> {
    let id: Option<i64> = sqlx::query_scalar("SELECT user_id FROM user_emails WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(catalog)
        .await
        .map_err(from_sqlx)?;
    id.map(rows::user_id).transpose()
}

/// The users that claimed any of `emails`, in one query on the catalog database.
pub async fn claimed_by_any(catalog: &PgPool, emails: &[Email]) -> Result<Vec<UserId>, StoreError> {
    let emails: Vec<&str> = emails.iter().map(Email::as_str).collect();
    let ids: Vec<i64> = sqlx::query_scalar("SELECT user_id FROM user_emails WHERE email = ANY($1)")
        .bind(&emails)
        .fetch_all(catalog)
        .await
        .map_err(from_sqlx)?;
    ids.into_iter().map(rows::user_id).collect()
}

pub async fn insert(shard_db: &PgPool, new: &NewUser) -> Result<User, StoreError> {
    let mut tx = shard_db.begin().await.map_err(from_sqlx)?;
    fence(&mut tx, new.id.shard()).await?;
    let created_at = crate::domain::now_ms();
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
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)?;
    Ok(User {
        id: new.id,
        email: new.email.clone(),
        name: new.name.clone(),
        staff: new.staff,
        created_at,
    })
}

pub async fn with_hash(shard_db: &PgPool, id: UserId) -> Result<Option<UserWithHash>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {USER_COLUMNS}, password_hash FROM users WHERE id = $1"
    ))
    .bind(id.as_i64())
    .fetch_optional(shard_db)
    .await
    .map_err(from_sqlx)?;
    row.map(|row| {
        Ok(UserWithHash {
            user: rows::user(&row)?,
            password_hash: PasswordHash::from_phc(rows::get(&row, "password_hash")?),
        })
    })
    .transpose()
}

pub async fn by_ids(pool: &PgPool, ids: &[i64]) -> Result<Vec<User>, StoreError> {
    let found = sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE id = ANY($1)"
    ))
    .bind(ids)
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    found.iter().map(rows::user).collect()
}

pub async fn page(
    pool: &PgPool,
    first: u32,
    after: Option<UserId>,
) -> Result<Vec<User>, StoreError> {
    let found = sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE id > $1 ORDER BY id LIMIT $2"
    ))
    .bind(after.map_or(0, UserId::as_i64))
    .bind(i64::from(first))
    .fetch_all(pool)
    .await
    .map_err(from_sqlx)?;
    found.iter().map(rows::user).collect()
}
