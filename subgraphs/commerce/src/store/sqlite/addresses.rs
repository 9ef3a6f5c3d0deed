//! The address book: a user's saved addresses, at most `MAX_ADDRESSES_PER_USER`.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{SqliteStore, now_ms, time_from_ms};
use crate::domain::{
    AddAddressOutcome, Address, AddressParts, MAX_ADDRESSES_PER_USER, NewAddress, PostalAddress,
};
use crate::ids::{AddressId, UserId};
use crate::store::{StoreError, corrupt, from_sqlx};

const COLUMNS: &str =
    "id, user_id, label, recipient, line1, line2, city, region, postal_code, country, created_at";

fn address_from_row(row: &SqliteRow) -> Result<Address, StoreError> {
    let text = |column: &str| row.try_get::<String, _>(column).map_err(from_sqlx);
    let maybe = |column: &str| row.try_get::<Option<String>, _>(column).map_err(from_sqlx);
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
    let id: i64 = row.try_get("id").map_err(from_sqlx)?;
    let user: i64 = row.try_get("user_id").map_err(from_sqlx)?;
    Ok(Address {
        id: AddressId::from_i64(id).ok_or_else(|| corrupt(format!("address id {id}")))?,
        user: UserId::from_i64(user).ok_or_else(|| corrupt(format!("address user {user}")))?,
        label: maybe("label")?,
        address,
        created_at: time_from_ms(row.try_get("created_at").map_err(from_sqlx)?, "created_at")?,
    })
}

pub(super) async fn add_address(
    store: &SqliteStore,
    new: &NewAddress,
) -> Result<AddAddressOutcome, StoreError> {
    let mut tx = store.write().await?;
    let user: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id = ?")
        .bind(new.user.as_i64())
        .fetch_optional(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    if user.is_none() {
        return Ok(AddAddressOutcome::UnknownUser);
    }
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM addresses WHERE user_id = ?")
        .bind(new.user.as_i64())
        .fetch_one(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    if kept >= MAX_ADDRESSES_PER_USER as i64 {
        return Ok(AddAddressOutcome::BookFull);
    }
    let a = &new.address;
    let row = sqlx::query(&format!(
        "INSERT INTO addresses ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         RETURNING {COLUMNS}"
    ))
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
    .bind(now_ms())
    .fetch_one(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)?;
    address_from_row(&row).map(AddAddressOutcome::Added)
}

pub(super) async fn addresses(
    store: &SqliteStore,
    user: UserId,
) -> Result<Vec<Address>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM addresses WHERE user_id = ? ORDER BY id DESC LIMIT ?"
    ))
    .bind(user.as_i64())
    .bind(MAX_ADDRESSES_PER_USER as i64)
    .fetch_all(&store.pool)
    .await
    .map_err(from_sqlx)?;
    rows.iter().map(address_from_row).collect()
}
