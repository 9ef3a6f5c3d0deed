//! The telemetry subgraph: server metrics (TSBS devops: cpu, mem, disk, net) of the hosts that
//! run the platform, on TimescaleDB, plain PostgreSQL or the embedded SQLite store.
//!
//! Everything outside talks to it through [`Telemetry`], its [`Subgraph`] value: the settings
//! of `[subgraphs.telemetry]`, [`open`](Subgraph::open) (store, schema, readiness probe,
//! maintenance task, demo seed) and the SDL. Non-obvious: the store is chosen at run time from
//! the settings and hidden behind the [`TelemetryStore`] port, and on PostgreSQL the edition
//! (TimescaleDB licensed, TimescaleDB Apache, plain PostgreSQL) is detected when it opens, so
//! the schema never knows which engine answers.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use async_trait::async_trait;
use chrono::Duration;
use polygate_kit::{OpenContext, Opened, Placement, SettingsError, Subgraph};

pub mod bulk;
pub mod cli;
pub mod clock;
pub mod domain;
pub mod generator;
pub mod ingest;
pub mod maintenance;
pub mod metrics;
pub mod migrate;
pub mod schema;
pub mod seed;
pub mod settings;
pub mod store;
pub mod tsbs;

pub use clock::{Clock, FixedClock, SystemClock};
pub use schema::{TelemetrySchema, sdl};
pub use settings::TelemetrySettings;
pub use store::{Edition, SqliteStore, StoreError, TelemetryStore};

/// The subgraph's name in metrics, logs and the gateway's supergraph.
pub const NAME: &str = "telemetry";

/// The embedded store's file under the data directory.
pub const EMBEDDED_FILE: &str = "telemetry.db";

/// The telemetry subgraph, as the gateway's registry and the standalone runner see it.
pub struct Telemetry;

/// Opens and migrates the store the settings name; embedded files go under `data_dir`.
pub async fn connect(
    settings: &TelemetrySettings,
    data_dir: &Path,
) -> anyhow::Result<Arc<dyn TelemetryStore>> {
    let store = settings.store.as_str();
    if store == "embedded" || store.starts_with("sqlite://") {
        let path = match store.strip_prefix("sqlite://") {
            Some(path) => Path::new(path).to_owned(),
            None => data_dir.join(EMBEDDED_FILE),
        };
        let opened = SqliteStore::open(&path)
            .await
            .with_context(|| format!("cannot open the SQLite store at {}", path.display()))?;
        Ok(Arc::new(opened))
    } else {
        let url = settings.postgres_url().await?;
        let opened = store::PostgresStore::connect(&url, settings)
            .await
            .with_context(|| format!("cannot open {}", polygate_kit::config::redact(store)))?;
        Ok(Arc::new(opened))
    }
}

/// The schema over `store`, reading the time from `clock`.
pub fn schema_for(
    store: Arc<dyn TelemetryStore>,
    clock: Arc<dyn Clock>,
    settings: &TelemetrySettings,
) -> TelemetrySchema {
    schema::build(schema::Context {
        store,
        clock,
        raw_retention: Duration::days(i64::from(settings.raw_retention_days)),
    })
}

/// Everything [`Subgraph::open`] returns, with the clock given (tests set it).
pub fn opened(
    store: Arc<dyn TelemetryStore>,
    settings: &TelemetrySettings,
    clock: Arc<dyn Clock>,
    placement: Placement,
) -> Opened {
    let schema = (placement != Placement::Remote).then(|| {
        Arc::new(schema_for(store.clone(), clock.clone(), settings))
            as Arc<dyn polygate_kit::SubgraphSchema>
    });
    Opened {
        schema,
        probes: vec![Arc::new(StoreProbe(store.clone())) as Arc<dyn polygate_kit::Probe>],
        tasks: vec![maintenance::task(
            store.clone(),
            settings.clone(),
            clock.clone(),
        )],
        seed: Some(Arc::new(seed::DemoFleet { store, clock })),
    }
}

#[async_trait(?Send)]
impl Subgraph for Telemetry {
    type Settings = TelemetrySettings;

    const NAME: &'static str = NAME;
    const DEFAULT_PORT: u16 = 4003;

    fn sdl() -> String {
        schema::sdl()
    }

    fn validate(settings: &TelemetrySettings, _remote: bool) -> Result<(), SettingsError> {
        settings.validate()
    }

    fn embedded(settings: &TelemetrySettings) -> bool {
        settings.embedded()
    }

    async fn open(settings: &TelemetrySettings, ctx: OpenContext) -> anyhow::Result<Opened> {
        let store = connect(settings, &ctx.data_dir).await.map_err(|e| {
            polygate_kit::subgraph::OpenError::at("store", "cannot open the store", e)
        })?;
        tracing::info!(
            engine = store.engine(),
            edition = ?store.edition(),
            "telemetry store open"
        );
        Ok(opened(
            store,
            settings,
            Arc::new(SystemClock),
            ctx.placement,
        ))
    }
}

/// The store as a readiness probe named `telemetry/<engine>`.
struct StoreProbe(Arc<dyn TelemetryStore>);

#[async_trait]
impl polygate_kit::Probe for StoreProbe {
    fn name(&self) -> String {
        format!("{NAME}/{}", self.0.engine())
    }

    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}
