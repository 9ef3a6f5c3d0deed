//! The host registry on PostgreSQL: every batch is one statement over arrays (`= ANY($1)`,
//! `unnest`).

use sqlx::postgres::PgRow;

use super::PostgresStore;
use crate::domain::{Host, HostFilter, HostId, Hostname, NewHost, Team};
use crate::store::rows::{HOST_COLUMNS, host_from_row};
use crate::store::{StoreError, from_sqlx};

fn hosts(rows: Vec<PgRow>) -> Result<Vec<Host>, StoreError> {
    rows.iter().map(host_from_row).collect()
}

pub(super) async fn upsert_hosts(
    store: &PostgresStore,
    new: &[NewHost],
) -> Result<Vec<Host>, StoreError> {
    // One row per hostname (the last wins): an upsert may not touch a row twice.
    let mut unique: Vec<&NewHost> = Vec::new();
    for host in new.iter().rev() {
        if !unique.iter().any(|h| h.hostname == host.hostname) {
            unique.push(host);
        }
    }
    unique.reverse();
    let column =
        |f: fn(&NewHost) -> &str| unique.iter().map(|h| f(h).to_owned()).collect::<Vec<_>>();
    let sql = format!(
        "INSERT INTO hosts (hostname, region, datacenter, rack, os, arch, team, service,
                            service_version, environment)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                              $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
         ON CONFLICT (hostname) DO UPDATE SET
            region = excluded.region, datacenter = excluded.datacenter, rack = excluded.rack,
            os = excluded.os, arch = excluded.arch, team = excluded.team,
            service = excluded.service, service_version = excluded.service_version,
            environment = excluded.environment
         RETURNING {HOST_COLUMNS}"
    );
    let rows = sqlx::query(&sql)
        .bind(column(|h| h.hostname.as_str()))
        .bind(column(|h| &h.tags.region))
        .bind(column(|h| &h.tags.datacenter))
        .bind(column(|h| &h.tags.rack))
        .bind(column(|h| &h.tags.os))
        .bind(column(|h| &h.tags.arch))
        .bind(column(|h| h.tags.team.as_str()))
        .bind(column(|h| &h.tags.service))
        .bind(column(|h| &h.tags.service_version))
        .bind(column(|h| &h.tags.environment))
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    let mut found = hosts(rows)?;
    // RETURNING comes in insertion order already; keep the caller's order to be explicit.
    found.sort_by_key(|h| unique.iter().position(|n| n.hostname == h.hostname));
    Ok(found)
}

pub(super) async fn hosts_by_ids(
    store: &PostgresStore,
    ids: &[HostId],
) -> Result<Vec<Host>, StoreError> {
    let sql = format!("SELECT {HOST_COLUMNS} FROM hosts WHERE id = ANY($1)");
    let ids: Vec<i32> = ids.iter().map(|i| i.get()).collect();
    let rows = sqlx::query(&sql)
        .bind(ids)
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    hosts(rows)
}

pub(super) async fn hosts_by_hostnames(
    store: &PostgresStore,
    names: &[Hostname],
) -> Result<Vec<Host>, StoreError> {
    let sql = format!("SELECT {HOST_COLUMNS} FROM hosts WHERE hostname = ANY($1)");
    let names: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
    let rows = sqlx::query(&sql)
        .bind(names)
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    hosts(rows)
}

pub(super) async fn hosts_by_teams(
    store: &PostgresStore,
    teams: &[Team],
) -> Result<Vec<Host>, StoreError> {
    let sql = format!("SELECT {HOST_COLUMNS} FROM hosts WHERE team = ANY($1) ORDER BY id");
    let teams: Vec<&str> = teams.iter().map(|t| t.as_str()).collect();
    let rows = sqlx::query(&sql)
        .bind(teams)
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    hosts(rows)
}

pub(super) async fn list_hosts(
    store: &PostgresStore,
    filter: &HostFilter,
    first: u32,
    after: Option<HostId>,
) -> Result<Vec<Host>, StoreError> {
    let sql = format!(
        "SELECT {HOST_COLUMNS} FROM hosts
         WHERE id > $1 AND ($2::text IS NULL OR team = $2) AND ($3::text IS NULL OR region = $3)
           AND ($4::text IS NULL OR service = $4)
         ORDER BY id LIMIT $5"
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
