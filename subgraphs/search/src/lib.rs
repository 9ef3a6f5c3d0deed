//! The search subgraph: semantic search over text documents. Documents are the source of truth;
//! each is cut into chunks, embedded in process by all-MiniLM-L6-v2 (candle), and stored as
//! vectors in Qdrant (the cloud) or an in-process HNSW index (embedded, the default).
//!
//! Non-obvious: the store and the embedder are both chosen at open time behind ports
//! ([`store::SearchStore`], [`embed::Embedder`]), so the gateway's in-process mode, the
//! standalone binary and the tests share every line above the adapters. A missing model is not
//! an error at open: the subgraph serves, and searches say how to install it.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use polygate_kit::feeds::ProductContentFeed;
use polygate_kit::{
    BackgroundTask, CapabilityId, OpenContext, Opened, Placement, SettingsError, Subgraph,
};

pub mod bench;
pub mod corpus;
pub mod domain;
pub mod embed;
pub mod follow;
pub mod metrics;
pub mod probe;
pub mod reindex;
pub mod schema;
pub mod seed;
pub mod service;
pub mod settings;
pub mod store;

pub use schema::{SearchSchema, sdl};
pub use service::SearchService;
pub use settings::SearchSettings;
pub use store::{EmbeddedStore, SearchStore, StoreError};

/// The subgraph's name in the supergraph, metrics and logs.
pub const NAME: &str = "search";
/// The collection a new store starts with, under the alias.
pub const INITIAL_COLLECTION: &str = "chunks_initial";
/// Where the embedded store keeps its files, under `server.data_dir`.
pub const EMBEDDED_DIR: &str = "search";

/// The search subgraph, for the gateway's registry and the standalone runner.
pub struct Search;

/// Opens the store the settings name: the embedded one under `data_dir`, or Qdrant.
pub async fn open_store(
    settings: &SearchSettings,
    data_dir: &std::path::Path,
) -> anyhow::Result<Arc<dyn SearchStore>> {
    let spec = settings.collection_spec(embed::DIMENSIONS);
    if settings.is_embedded() {
        let dir = data_dir.join(EMBEDDED_DIR);
        let store = EmbeddedStore::open(&dir, INITIAL_COLLECTION, &spec)
            .await
            .with_context(|| {
                format!("cannot open the embedded search store in {}", dir.display())
            })?;
        Ok(Arc::new(store))
    } else {
        let url = settings.store.trim();
        let layout = store::QdrantLayout {
            shards: settings.qdrant.shards,
            replication_factor: settings.qdrant.replication_factor,
            on_disk_vectors: settings.qdrant.on_disk_vectors,
        };
        let api_key = settings.api_key().await?;
        let store = store::QdrantStore::connect(
            url,
            Some(api_key.as_str()),
            &settings.collection_prefix,
            layout,
            Duration::from_secs(settings.qdrant.timeout_secs.max(1)),
            INITIAL_COLLECTION,
            &spec,
        )
        .await
        .with_context(|| {
            format!(
                "cannot use the Qdrant at {}",
                polygate_kit::config::redact(url)
            )
        })?;
        Ok(Arc::new(store))
    }
}

/// Store, embedder and clock, opened from settings.
pub async fn open_service(
    settings: &SearchSettings,
    data_dir: &std::path::Path,
) -> anyhow::Result<SearchService> {
    let store = open_store(settings, data_dir).await?;
    let embedder = embed::open(settings.model_dir().as_deref());
    metrics::MODEL_LOADED.set(i64::from(embedder.model() != "none"));
    Ok(SearchService::new(
        store,
        embedder,
        Arc::new(domain::SystemClock),
    ))
}

/// How often the pending indexer looks for documents the index does not hold yet.
pub const PENDING_EVERY: Duration = Duration::from_secs(2);
/// How often the store's housekeeping runs (the embedded store writes changed graphs to their
/// files, so a restart loads rather than rebuilds them).
pub const MAINTAIN_EVERY: Duration = Duration::from_secs(30);

/// The background work of an opened service.
pub fn background_tasks(
    service: &SearchService,
    settings: &SearchSettings,
    capabilities: polygate_kit::Capabilities,
) -> Vec<BackgroundTask> {
    let mut tasks = vec![
        follow::task(
            service.clone(),
            capabilities,
            Duration::from_millis(settings.feed_poll_ms),
        ),
        BackgroundTask::new(
            "search/monitor",
            metrics::monitor(
                service.clone(),
                Duration::from_secs(settings.recall_probe_every_secs),
                settings.recall_probe_sample,
            ),
        ),
    ];
    if service.embedder.model() != "none" {
        let pending = service.clone();
        tasks.push(BackgroundTask::new("search/pending-indexer", async move {
            loop {
                match pending.index_pending(64).await {
                    Ok(n) if n > 0 => tracing::info!(indexed = n, "pending documents indexed"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "pending indexer failed; retrying"),
                }
                tokio::time::sleep(PENDING_EVERY).await;
            }
        }));
    }
    tasks
}

#[async_trait(?Send)]
impl Subgraph for Search {
    type Settings = SearchSettings;
    const NAME: &'static str = NAME;
    const DEFAULT_PORT: u16 = 4006;

    /// Catalog's content feed, which the index follows.
    fn needs() -> Vec<CapabilityId> {
        vec![CapabilityId::of::<dyn ProductContentFeed>()]
    }

    fn sdl() -> String {
        schema::sdl()
    }

    fn validate(settings: &SearchSettings, _remote: bool) -> Result<(), SettingsError> {
        settings.validate()
    }

    fn embedded(settings: &SearchSettings) -> bool {
        settings.is_embedded()
    }

    async fn open(settings: &SearchSettings, ctx: OpenContext) -> anyhow::Result<Opened> {
        let service = open_service(settings, &ctx.data_dir).await?;
        let mut tasks = background_tasks(&service, settings, ctx.capabilities.clone());
        tasks.push(maintenance(&service));
        let schema = (ctx.placement != Placement::Remote).then(|| {
            Arc::new(schema::build(
                service.clone(),
                settings.collection_spec(embed::DIMENSIONS),
            )) as Arc<dyn polygate_kit::SubgraphSchema>
        });
        Ok(Opened {
            schema,
            probes: vec![probe::probe(service.store.clone())],
            tasks,
            seed: Some(Arc::new(seed::DemoCorpus(service))),
        })
    }
}

/// The store's housekeeping every [`MAINTAIN_EVERY`] (the embedded store's graph files).
fn maintenance(service: &SearchService) -> BackgroundTask {
    let store = service.store.clone();
    BackgroundTask::new("search/maintenance", async move {
        loop {
            tokio::time::sleep(MAINTAIN_EVERY).await;
            if let Err(e) = store.maintain().await {
                tracing::warn!(error = %e, "search store maintenance failed");
            }
        }
    })
}
