//! Users: sign-up, sign-in lookups and the id-keyed reads.
//!
//! Non-obvious: emails are unique through the index on `lower(email)`, and `Email` is already
//! lowercase, so the lookup compares `lower(email)` with the parsed value and uses that index.

use chrono::{SubsecRound, Utc};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{SqliteStore, json_array, time_from_ms};
use crate::domain::{DisplayName, Email, NewUser, PasswordHash, User, UserWithHash};
use crate::ids::UserId;
use crate::store::{StoreError, corrupt, from_sqlx};

const USER_COLUMNS: &str = "id, email, name, staff, created_at";

fn user_from_row(row: &SqliteRow) -> Result<User, StoreError> {
    let raw_id: i64 = row.try_get("id").map_err(from_sqlx)?;
    let email: String = row.try_get("email").map_err(from_sqlx)?;
    let name: String = row.try_get("name").map_err(from_sqlx)?;
    Ok(User {
        id: UserId::from_i64(raw_id).ok_or_else(|| corrupt(format!("user id {raw_id}")))?,
        email: Email::parse(&email).map_err(corrupt)?,
        name: DisplayName::parse(&name).map_err(corrupt)?,
        staff: row.try_get("staff").map_err(from_sqlx)?,
        created_at: time_from_ms(row.try_get("created_at").map_err(from_sqlx)?, "created_at")?,
    })
}

fn users_from_rows(rows: &[SqliteRow]) -> Result<Vec<User>, StoreError> {
    rows.iter().map(user_from_row).collect()
}

pub(super) async fn create_user(store: &SqliteStore, new: NewUser) -> Result<User, StoreError> {
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
    .execute(&store.pool)
    .await
    .map_err(from_sqlx)?;
    Ok(User {
        id: new.id,
        email: new.email,
        name: new.name,
        staff: new.staff,
        created_at,
    })
}

pub(super) async fn user_by_email(
    store: &SqliteStore,
    email: &Email,
) -> Result<Option<UserWithHash>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(email) = ?");
    let row = sqlx::query(&sql)
        .bind(email.as_str())
        .fetch_optional(&store.pool)
        .await
        .map_err(from_sqlx)?;
    row.map(|row| {
        Ok(UserWithHash {
            user: user_from_row(&row)?,
            password_hash: PasswordHash::from_phc(row.try_get("password_hash").map_err(from_sqlx)?),
        })
    })
    .transpose()
}

pub(super) async fn users_by_ids(
    store: &SqliteStore,
    ids: &[UserId],
) -> Result<Vec<User>, StoreError> {
    let json = json_array(ids.iter().map(|id| id.as_i64()))?;
    let sql =
        format!("SELECT {USER_COLUMNS} FROM users WHERE id IN (SELECT value FROM json_each(?))");
    let rows = sqlx::query(&sql)
        .bind(&json)
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    users_from_rows(&rows)
}

pub(super) async fn users_by_emails(
    store: &SqliteStore,
    emails: &[Email],
) -> Result<Vec<User>, StoreError> {
    let json = json_array(emails.iter().map(Email::as_str))?;
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE lower(email) IN (SELECT value FROM json_each(?))"
    );
    let rows = sqlx::query(&sql)
        .bind(&json)
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    users_from_rows(&rows)
}

pub(super) async fn list_users(
    store: &SqliteStore,
    first: u32,
    after: Option<UserId>,
) -> Result<Vec<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id > ? ORDER BY id LIMIT ?");
    let rows = sqlx::query(&sql)
        .bind(after.map_or(0, UserId::as_i64))
        .bind(i64::from(first))
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    users_from_rows(&rows)
}
