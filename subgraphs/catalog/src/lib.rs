//! The catalog subgraph: flexible product content (descriptions, nested variants, free-form
//! attributes, media, reviews) on MongoDB in the cloud and SQLite embedded, cached in Redis or
//! in memory, extending commerce's `Product` by `sku`.
//!
//! Everything outside talks to it through [`Catalog`] (the kit's `Subgraph` seam): settings →
//! [`open`](polygate_kit::Subgraph::open) → schema, readiness probe, background tasks (the
//! schema migrator), the demo seed, and the `ProductContentFeed` capability search reads.
//! Non-obvious: the store is chosen at run time from the `store` URL and hidden behind the
//! [`CatalogStore`] port, and the cache wraps it as another `CatalogStore`, so the schema never
//! knows which engine or cache answers.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use polygate_kit::config::redact;
use polygate_kit::feeds::ProductContentFeed;
use polygate_kit::subgraph::OpenError;
use polygate_kit::{
    BackgroundTask, CapabilityId, OpenContext, Opened, Placement, SettingsError, Subgraph,
};

pub mod cache;
pub mod clock;
pub mod domain;
pub mod dump;
pub mod feed;
pub mod generator;
pub mod metrics;
pub mod migrator;
pub mod probe;
pub mod schema;
pub mod seed;
pub mod settings;
pub mod sharding;
pub mod store;

pub use settings::CatalogSettings;
pub use store::{CatalogStore, SqliteStore, StoreError};

/// The subgraph's name in metrics, logs and the supergraph.
pub const NAME: &str = "catalog";

/// The catalog subgraph, as the gateway's registry and `polygate-catalog serve` see it.
pub struct Catalog;

/// Opens the store the settings name (migrated, indexes ensured), behind its cache.
pub async fn open_store(
    settings: &CatalogSettings,
    data_dir: &std::path::Path,
) -> anyhow::Result<Arc<dyn CatalogStore>> {
    store::set_slow_operation_threshold(Duration::from_millis(settings.slow_op_ms));
    let base: Arc<dyn CatalogStore> = if settings.is_embedded() {
        let path = data_dir.join("catalog.db");
        let store = SqliteStore::open(&path)
            .await
            .map_err(|e| OpenError::at("store", format!("cannot open `{}`", path.display()), e))?;
        Arc::new(store)
    } else {
        let (username, password) = settings.credentials().await?;
        let store = store::MongoStore::connect_as(
            &settings.store,
            &settings.database,
            &settings.read_preference,
            username,
            password,
        )
        .await
        .map_err(|e| {
            OpenError::at(
                "store",
                format!("cannot open `{}`", redact(&settings.store)),
                e,
            )
        })?;
        Arc::new(store)
    };
    let cache = cache::CacheSettings {
        product_ttl: Duration::from_secs(settings.cache_ttl_secs),
        page_ttl: Duration::from_secs(settings.page_ttl_secs),
        ..Default::default()
    };
    let cached = cache::with_cache(base, &settings.cache, &cache).map_err(|e| {
        OpenError::at(
            "cache",
            format!("cannot open `{}`", redact(&settings.cache)),
            e,
        )
    })?;
    Ok(cached)
}

#[async_trait(?Send)]
impl Subgraph for Catalog {
    type Settings = CatalogSettings;

    const NAME: &'static str = NAME;
    const DEFAULT_PORT: u16 = 4004;

    /// The content feed (the outbox) search reads: a gateway that runs search in-process opens
    /// this store even when the catalog runs as its own service, and then `store` must be the
    /// MongoDB the service writes (the gateway refuses an embedded one at open). A gateway whose
    /// search is remote, or not linked, never opens a remote catalog.
    fn provides() -> Vec<CapabilityId> {
        vec![CapabilityId::of::<dyn ProductContentFeed>()]
    }

    fn sdl() -> String {
        schema::sdl()
    }

    fn validate(settings: &CatalogSettings, _remote: bool) -> Result<(), SettingsError> {
        settings.validate()
    }

    fn embedded(settings: &CatalogSettings) -> bool {
        settings.is_embedded()
    }

    async fn open(settings: &CatalogSettings, ctx: OpenContext) -> anyhow::Result<Opened> {
        let store = open_store(settings, &ctx.data_dir).await?;
        ctx.capabilities
            .provide::<dyn ProductContentFeed>(Arc::new(feed::OutboxFeed(store.clone())));
        let schema = (ctx.placement != Placement::Remote).then(|| {
            Arc::new(schema::build(store.clone(), Arc::new(clock::SystemClock)))
                as Arc<dyn polygate_kit::SubgraphSchema>
        });
        let every = Duration::from_secs(settings.migrate_every_secs);
        // Opened only for the feed when remote: the service runs the migrator and owns the seed.
        let serving = ctx.placement != Placement::Remote;
        Ok(Opened {
            schema,
            probes: vec![probe::probe(store.clone())],
            tasks: serving
                .then(|| {
                    BackgroundTask::new(
                        "catalog/schema-migrator",
                        migrator::run(store.clone(), every),
                    )
                })
                .into_iter()
                .collect(),
            seed: serving
                .then(|| Arc::new(seed::CatalogSeed(store)) as Arc<dyn polygate_kit::DemoSeed>),
        })
    }
}
