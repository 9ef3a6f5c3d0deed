//! Decoding rows into domain values, the same for every engine (sqlx rows are generic).

use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{StoreError, corrupt, from_sqlx};
use crate::domain::{Host, HostId, HostTags, Hostname, RawTags};

/// The host columns every host query selects, in [`host_from_row`] order.
pub const HOST_COLUMNS: &str =
    "id, hostname, region, datacenter, rack, os, arch, team, service, service_version, environment";

/// A host from a row of [`HOST_COLUMNS`].
pub fn host_from_row<'r, R>(row: &'r R) -> Result<Host, StoreError>
where
    R: Row,
    usize: ColumnIndex<R>,
    i32: Decode<'r, R::Database> + Type<R::Database>,
    &'r str: Decode<'r, R::Database> + Type<R::Database>,
{
    let text = |i: usize| row.try_get::<&str, _>(i).map_err(from_sqlx);
    let id: i32 = row.try_get(0).map_err(from_sqlx)?;
    let tags = RawTags {
        region: text(2)?,
        datacenter: text(3)?,
        rack: text(4)?,
        os: text(5)?,
        arch: text(6)?,
        team: text(7)?,
        service: text(8)?,
        service_version: text(9)?,
        environment: text(10)?,
    };
    Ok(Host {
        id: HostId::new(id).map_err(|e| corrupt(format!("host {id}: {e}")))?,
        hostname: Hostname::parse(text(1)?).map_err(|e| corrupt(format!("host {id}: {e}")))?,
        tags: HostTags::parse(&tags).map_err(|e| corrupt(format!("host {id}: {e}")))?,
    })
}

/// A stored host id as the domain type.
pub fn host_id(raw: i64) -> Result<HostId, StoreError> {
    i32::try_from(raw)
        .ok()
        .and_then(|id| HostId::new(id).ok())
        .ok_or_else(|| corrupt(format!("host id {raw}")))
}
