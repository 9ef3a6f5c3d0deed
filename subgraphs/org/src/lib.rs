//! The org subgraph: employees, departments and reporting lines, queried by traversal. Neo4j in
//! the cloud (Aura), SQLite embedded; the same port, schema and conformance suite for both.
//!
//! Everything outside talks to it through [`Org`], its [`polygate_kit::Subgraph`] value: the
//! settings name the store, `open` connects and migrates it, builds the schema and hands back
//! the readiness probe, the optional profiling task and the demo seed.

use std::sync::Arc;

use async_trait::async_trait;
use polygate_kit::{
    BackgroundTask, DemoSeed, OpenContext, Opened, Placement, SeedReport, SettingsError, Subgraph,
};

pub mod backup;
pub mod chart;
pub mod clock;
pub mod domain;
pub mod metrics;
pub mod schema;
pub mod settings;
pub mod store;

pub use schema::{OrgSchema, build as schema, sdl};
pub use settings::{OrgSettings, open_store};
pub use store::{Neo4jStore, OrgStore, SqliteStore, StoreError};

/// The subgraph's name in metrics, logs and the supergraph.
pub const NAME: &str = "org";

/// The org subgraph, as the gateway's registry and `polygate-org serve` see it.
pub struct Org;

#[async_trait(?Send)]
impl Subgraph for Org {
    type Settings = OrgSettings;
    const NAME: &'static str = NAME;
    const DEFAULT_PORT: u16 = 4005;

    fn sdl() -> String {
        schema::sdl()
    }

    fn validate(settings: &OrgSettings, _remote: bool) -> Result<(), SettingsError> {
        settings.validate()
    }

    fn embedded(settings: &OrgSettings) -> bool {
        settings.embedded()
    }

    async fn open(settings: &OrgSettings, ctx: OpenContext) -> anyhow::Result<Opened> {
        let opened = open_store(settings, &ctx.data_dir).await?;
        let store = opened.store;
        let schema = (ctx.placement != Placement::Remote).then(|| {
            Arc::new(schema::build(store.clone(), Arc::new(clock::SystemClock)))
                as Arc<dyn polygate_kit::SubgraphSchema>
        });
        let mut tasks = Vec::new();
        if let (Some(neo4j), every) = (opened.neo4j, settings.profile_every_secs)
            && every > 0
        {
            tasks.push(BackgroundTask::new(
                "org/profiler",
                store::neo4j::profile::run_every(neo4j, std::time::Duration::from_secs(every)),
            ));
        }
        Ok(Opened {
            schema,
            probes: vec![Arc::new(StoreProbe(store.clone()))],
            tasks,
            seed: Some(Arc::new(Seed(store))),
        })
    }
}

/// The store as a readiness probe named `org/<engine>`.
pub struct StoreProbe(pub Arc<dyn OrgStore>);

#[async_trait]
impl polygate_kit::Probe for StoreProbe {
    fn name(&self) -> String {
        format!("{NAME}/{}", self.0.engine())
    }

    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

/// The demo org ([`chart::demo`]), loaded unless it is there.
pub struct Seed(pub Arc<dyn OrgStore>);

#[async_trait]
impl DemoSeed for Seed {
    async fn seed(&self) -> anyhow::Result<SeedReport> {
        let created = self.0.import(&chart::demo()).await?;
        Ok(SeedReport {
            created,
            what: "departments and employees",
        })
    }
}
