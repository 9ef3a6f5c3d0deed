//! Opening the commerce store from settings: the database topology (one URL, or a catalog plus
//! shard databases, each optionally with a replica) and the product cache in front of it, plus
//! the background work a store needs (the order sweeper, database monitoring).
//!
//! The gateway (`[subgraphs.commerce]` in polygate.toml) and `polygate-commerce serve` both go
//! through [`open`], so one configuration means the same thing in either process.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use polygate_kit::BackgroundTask;

use crate::cache::{CacheSettings, with_cache};
use crate::store::postgres::{DatabaseUrls, Topology, monitoring};
use crate::store::{CommerceStore, PostgresStore};
use crate::upkeep::{Scheduler, SystemClock, UpkeepSettings};

/// Where the commerce data lives.
#[derive(Debug, Clone, Default)]
pub struct StoreSettings {
    /// `sqlite://PATH`, or the catalog database `postgres://…` (also the first shard home).
    pub url: String,
    /// A streaming replica of `url`, for reads that tolerate lag.
    pub replica: Option<String>,
    /// Further shard databases by name (`[a-z0-9_]{1,32}`), Postgres only.
    pub shards: BTreeMap<String, String>,
    /// Replicas of the shard databases, by the same names.
    pub shard_replicas: BTreeMap<String, String>,
    /// The product cache: `memory`, `redis://…`, `redis-cluster://…` or `off`.
    pub cache: String,
    /// The Postgres URLs lead to PgBouncer in transaction pooling mode.
    pub transaction_pooler: bool,
}

/// An opened store and, on Postgres, the router itself (for monitoring and shard moves).
pub struct OpenedStore {
    /// The store the schema uses: the router behind the product cache.
    pub store: Arc<dyn CommerceStore>,
    pub postgres: Option<Arc<PostgresStore>>,
    /// Whether the Postgres URLs go through a transaction pooler.
    pub transaction_pooler: bool,
}

impl StoreSettings {
    fn topology(&self) -> anyhow::Result<Topology> {
        let mut topology = Topology::single(self.url.clone());
        topology.main.replica = self.replica.clone();
        topology.transaction_pooler = self.transaction_pooler;
        for (name, url) in &self.shards {
            topology.shards.insert(
                name.clone(),
                DatabaseUrls {
                    primary: url.clone(),
                    replica: self.shard_replicas.get(name).cloned(),
                },
            );
        }
        if let Some(orphan) = self
            .shard_replicas
            .keys()
            .find(|n| n.as_str() != crate::store::postgres::MAIN && !self.shards.contains_key(*n))
        {
            anyhow::bail!("shard replica {orphan:?} names no shard database");
        }
        topology.validate().map_err(anyhow::Error::msg)?;
        Ok(topology)
    }
}

/// Connects, migrates and wraps the store in its cache.
pub async fn open(settings: &StoreSettings) -> anyhow::Result<OpenedStore> {
    let is_postgres =
        settings.url.starts_with("postgres://") || settings.url.starts_with("postgresql://");
    let (base, postgres): (Arc<dyn CommerceStore>, _) = if is_postgres {
        let topology = settings.topology()?;
        let router = Arc::new(PostgresStore::connect_topology(&topology).await?);
        (router.clone(), Some(router))
    } else {
        anyhow::ensure!(
            settings.replica.is_none() && settings.shards.is_empty(),
            "replicas and shard databases need a postgres:// store"
        );
        (crate::connect(&settings.url).await?, None)
    };
    let cache = if settings.cache.is_empty() {
        "memory"
    } else {
        &settings.cache
    };
    let store = with_cache(base, cache, &CacheSettings::default())
        .with_context(|| format!("cannot open the product cache {}", crate::redact(cache)))?;
    Ok(OpenedStore {
        store,
        postgres,
        transaction_pooler: settings.transaction_pooler,
    })
}

/// How often the sweeper looks for abandoned order requests, and how old they must be.
pub const SWEEP_EVERY: Duration = Duration::from_secs(30);
/// How often replica lag and slow statements are sampled.
pub const MONITOR_EVERY: Duration = Duration::from_secs(10);

/// The order sweeper, the upkeep scheduler (partitions, archiving, the stock-counter check) and,
/// on Postgres, the shard map refresh and database monitoring: the work an opened store needs
/// running while it serves.
pub fn background_tasks(
    opened: &OpenedStore,
    sweep_every: Duration,
    upkeep: UpkeepSettings,
) -> Vec<BackgroundTask> {
    let mut tasks = vec![BackgroundTask::new(
        "commerce/order-sweeper",
        crate::orders::run_sweeper(opened.store.clone(), sweep_every),
    )];
    if opened.transaction_pooler {
        // The leader's advisory lock and DETACH ... CONCURRENTLY need a session of their own,
        // which transaction pooling does not give (README, "Connections at scale").
        tracing::warn!(
            "commerce: transaction_pooler is set, so the in-process upkeep does not run; run \
             `polygate-commerce maintain` with direct URLs from a scheduler instead"
        );
    } else {
        let scheduler = Scheduler::new(opened.store.clone(), opened.postgres.clone(), upkeep);
        tasks.push(BackgroundTask::new(
            "commerce/upkeep",
            scheduler.run(Arc::new(SystemClock)),
        ));
    }
    if let Some(router) = &opened.postgres {
        tasks.push(BackgroundTask::new(
            "commerce/shard-map-refresh",
            router.refresh_map(),
        ));
        tasks.push(BackgroundTask::new(
            "commerce/database-monitor",
            monitoring::run_monitor(router.clone(), MONITOR_EVERY),
        ));
    }
    tasks
}
