//! Which databases the Postgres adapter talks to, and where each logical shard lives.
//!
//! Non-obvious: the shard map is data, not configuration. It lives in the catalog database
//! (`shard_map`), every router caches it, and a router reloads it when a shard database refuses
//! a write with "not owned" (see `shard_ownership` in migration 0005). Configuration only names
//! the databases and their URLs, so moving a shard never needs a redeploy.

use std::collections::BTreeMap;
use std::sync::RwLock;

use sqlx::PgPool;

use crate::ids::LOGICAL_SHARDS;
use crate::store::StoreError;

/// The name of the database given as the store URL: the catalog, and the home of every shard
/// until shards are moved.
pub const MAIN: &str = "main";

/// The databases of one deployment, by name (`[a-z0-9_]{1,32}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    /// The catalog database's URL: products, prices, stock, the shard map and the email index.
    pub main: DatabaseUrls,
    /// Further shard databases. Shards move to them with `move_shard`.
    pub shards: BTreeMap<String, DatabaseUrls>,
    /// The URLs lead to PgBouncer in transaction pooling mode (README, "Connections at scale"):
    /// every pooled connection then works inside a transaction of its own, without a statement
    /// cache, with its timeouts set per transaction.
    pub transaction_pooler: bool,
}

/// A database's primary and, optionally, a streaming replica for reads that tolerate lag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatabaseUrls {
    pub primary: String,
    pub replica: Option<String>,
}

impl DatabaseUrls {
    pub fn primary(url: impl Into<String>) -> Self {
        Self {
            primary: url.into(),
            replica: None,
        }
    }
}

impl Topology {
    /// One database plays every role.
    pub fn single(url: impl Into<String>) -> Self {
        Self {
            main: DatabaseUrls::primary(url),
            shards: BTreeMap::new(),
            transaction_pooler: false,
        }
    }

    /// Every database, `main` first.
    pub fn databases(&self) -> impl Iterator<Item = (&str, &DatabaseUrls)> {
        std::iter::once((MAIN, &self.main)).chain(self.shards.iter().map(|(n, u)| (n.as_str(), u)))
    }

    /// Names must be valid, unique and not `main`.
    pub fn validate(&self) -> Result<(), String> {
        for name in self.shards.keys() {
            let shape_ok = (1..=32).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !shape_ok || name == MAIN {
                return Err(format!(
                    "shard database name {name:?} must be 1 to 32 of a-z, 0-9, _ and not {MAIN:?}"
                ));
            }
        }
        Ok(())
    }
}

/// One connected database.
pub struct Database {
    pub name: String,
    pub primary: PgPool,
    pub replica: Option<PgPool>,
}

/// The cached shard map: logical shard → index into the router's databases.
pub struct ShardMap {
    homes: RwLock<Vec<usize>>,
}

impl ShardMap {
    pub fn new(homes: Vec<usize>) -> Self {
        Self {
            homes: RwLock::new(homes),
        }
    }

    pub fn home(&self, shard: u16) -> usize {
        self.homes.read().expect("shard map lock")[usize::from(shard)]
    }

    pub fn replace(&self, homes: Vec<usize>) {
        *self.homes.write().expect("shard map lock") = homes;
    }

    /// Shards per database index, for scatter-gather.
    pub fn databases_in_use(&self) -> Vec<usize> {
        let mut used: Vec<usize> = self.homes.read().expect("shard map lock").clone();
        used.sort_unstable();
        used.dedup();
        used
    }
}

/// Reads `shard_map` from the catalog database and resolves names to database indexes.
pub async fn load_map(catalog: &PgPool, databases: &[Database]) -> Result<Vec<usize>, StoreError> {
    let rows: Vec<(i16, String)> = sqlx::query_as(include_str!(
        "../../../../../sql/commerce/postgres/queries/shard_map.sql"
    ))
    .fetch_all(catalog)
    .await
    .map_err(super::super::from_sqlx)?;
    let mut homes = vec![usize::MAX; usize::from(LOGICAL_SHARDS)];
    for (shard, name) in rows {
        let index = databases
            .iter()
            .position(|d| d.name == name)
            .ok_or_else(|| {
                StoreError::Other(format!(
                    "shard {shard} lives in database {name:?}, which the configuration does not name"
                ))
            })?;
        if let Some(slot) = usize::try_from(shard).ok().and_then(|s| homes.get_mut(s)) {
            *slot = index;
        }
    }
    if let Some(orphan) = homes.iter().position(|h| *h == usize::MAX) {
        return Err(StoreError::Other(format!(
            "the shard map has no database for logical shard {orphan}"
        )));
    }
    Ok(homes)
}

/// On first start, every logical shard is placed in `main` and `main` owns them all.
pub async fn bootstrap(main: &PgPool) -> Result<(), StoreError> {
    let mut tx = main.begin().await.map_err(super::super::from_sqlx)?;
    sqlx::query("SELECT pg_advisory_xact_lock(7106)")
        .execute(&mut *tx)
        .await
        .map_err(super::super::from_sqlx)?;
    let mapped: i64 = sqlx::query_scalar("SELECT count(*) FROM shard_map")
        .fetch_one(&mut *tx)
        .await
        .map_err(super::super::from_sqlx)?;
    if mapped == 0 {
        sqlx::query(
            "INSERT INTO shard_map (logical_shard, database)
             SELECT s, $2 FROM generate_series(0, $1 - 1) AS s;
            ",
        )
        .bind(i32::from(LOGICAL_SHARDS))
        .bind(MAIN)
        .execute(&mut *tx)
        .await
        .map_err(super::super::from_sqlx)?;
        sqlx::query(
            "INSERT INTO shard_ownership (logical_shard)
             SELECT s FROM generate_series(0, $1 - 1) AS s ON CONFLICT DO NOTHING",
        )
        .bind(i32::from(LOGICAL_SHARDS))
        .execute(&mut *tx)
        .await
        .map_err(super::super::from_sqlx)?;
    }
    tx.commit().await.map_err(super::super::from_sqlx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_database_names_are_checked() {
        let mut topology = Topology::single("postgres://a/x");
        topology
            .shards
            .insert("shard_b".into(), DatabaseUrls::primary("postgres://b/x"));
        assert!(topology.validate().is_ok());
        for bad in ["main", "Shard", "", "a-b"] {
            let mut t = topology.clone();
            t.shards
                .insert(bad.into(), DatabaseUrls::primary("postgres://c/x"));
            assert!(t.validate().is_err(), "{bad:?}");
        }
        assert_eq!(
            topology.databases().map(|(n, _)| n).collect::<Vec<_>>(),
            ["main", "shard_b"]
        );
    }
}
