//! The host registry on SQLite. Batches of keys travel as one JSON array (`json_each`), so a
//! batch of any size is one statement with one parameter.

use sqlx::sqlite::SqliteRow;

use super::{SqliteStore, json_array};
use crate::domain::{Host, HostFilter, HostId, Hostname, NewHost, Team};
use crate::store::rows::{HOST_COLUMNS, host_from_row};
use crate::store::{StoreError, from_sqlx};

fn hosts(rows: Vec<SqliteRow>) -> Result<Vec<Host>, StoreError> {
    rows.iter().map(host_from_row).collect()
}

pub(super) async fn upsert_hosts(
    store: &SqliteStore,
    new: &[NewHost],
) -> Result<Vec<Host>, StoreError> {
    let sql = format!(
        "INSERT INTO hosts (hostname, region, datacenter, rack, os, arch, team, service,
                            service_version, environment)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (hostname) DO UPDATE SET
            region = excluded.region, datacenter = excluded.datacenter, rack = excluded.rack,
            os = excluded.os, arch = excluded.arch, team = excluded.team,
            service = excluded.service, service_version = excluded.service_version,
            environment = excluded.environment
         RETURNING {HOST_COLUMNS}"
    );
    let mut tx = store.write().await?;
    let mut out = Vec::with_capacity(new.len());
    for host in new {
        let t = &host.tags;
        let row = sqlx::query(&sql)
            .bind(host.hostname.as_str())
            .bind(&t.region)
            .bind(&t.datacenter)
            .bind(&t.rack)
            .bind(&t.os)
            .bind(&t.arch)
            .bind(t.team.as_str())
            .bind(&t.service)
            .bind(&t.service_version)
            .bind(&t.environment)
            .fetch_one(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        out.push(host_from_row(&row)?);
    }
    tx.commit().await.map_err(from_sqlx)?;
    Ok(out)
}

pub(super) async fn hosts_by_ids(
    store: &SqliteStore,
    ids: &[HostId],
) -> Result<Vec<Host>, StoreError> {
    let sql =
        format!("SELECT {HOST_COLUMNS} FROM hosts WHERE id IN (SELECT value FROM json_each(?))");
    let rows = sqlx::query(&sql)
        .bind(json_array(ids.iter().map(|i| i.get()))?)
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    hosts(rows)
}

pub(super) async fn hosts_by_hostnames(
    store: &SqliteStore,
    names: &[Hostname],
) -> Result<Vec<Host>, StoreError> {
    let sql = format!(
        "SELECT {HOST_COLUMNS} FROM hosts WHERE hostname IN (SELECT value FROM json_each(?))"
    );
    let rows = sqlx::query(&sql)
        .bind(json_array(names.iter().map(|n| n.as_str()))?)
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    hosts(rows)
}

pub(super) async fn hosts_by_teams(
    store: &SqliteStore,
    teams: &[Team],
) -> Result<Vec<Host>, StoreError> {
    let sql = format!(
        "SELECT {HOST_COLUMNS} FROM hosts WHERE team IN (SELECT value FROM json_each(?)) \
         ORDER BY id"
    );
    let rows = sqlx::query(&sql)
        .bind(json_array(teams.iter().map(|t| t.as_str()))?)
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    hosts(rows)
}

pub(super) async fn list_hosts(
    store: &SqliteStore,
    filter: &HostFilter,
    first: u32,
    after: Option<HostId>,
) -> Result<Vec<Host>, StoreError> {
    let sql = format!(
        "SELECT {HOST_COLUMNS} FROM hosts
         WHERE id > ?1 AND (?2 IS NULL OR team = ?2) AND (?3 IS NULL OR region = ?3)
           AND (?4 IS NULL OR service = ?4)
         ORDER BY id LIMIT ?5"
    );
    let rows = sqlx::query(&sql)
        .bind(after.map_or(0, HostId::get))
        .bind(filter.team.as_ref().map(Team::as_str))
        .bind(filter.region.as_deref())
        .bind(filter.service.as_deref())
        .bind(i64::from(first))
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    hosts(rows)
}
