//! What a subgraph is to the processes that run it: one value per subgraph, so the gateway and the
//! standalone runner loop over a registry instead of naming subgraphs.
//!
//! A subgraph provides its name, its `[subgraphs.<name>]` settings (typed, with an embedded
//! default), how it opens its stores from them (returning its schema, readiness probes,
//! background tasks and demo seed), and its SDL. Non-obvious decision: two keys of every section
//! belong to the processes, not to the subgraph: `url` (the gateway calls the subgraph over HTTP
//! there) and `listen` (where `polygate-<name> serve` binds). They are taken out before the rest
//! is parsed into the subgraph's own settings, so a subgraph never sees, or re-validates, them.

use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::capabilities::{Capabilities, CapabilityId};
use crate::probe::Probe;

/// A subgraph's executable schema, type-erased (every async-graphql `Schema` is one).
pub trait SubgraphSchema: Send + Sync + 'static {
    fn execute(
        &self,
        request: async_graphql::Request,
    ) -> BoxFuture<'static, async_graphql::Response>;
}

impl<E: async_graphql::Executor> SubgraphSchema for E {
    fn execute(
        &self,
        request: async_graphql::Request,
    ) -> BoxFuture<'static, async_graphql::Response> {
        let schema = self.clone();
        Box::pin(async move { async_graphql::Executor::execute(&schema, request).await })
    }
}

/// Work a subgraph needs running while it serves (a sweeper, a scheduler, a monitor). The
/// process spawns it on the runtime that owns the store pools; it runs until the process ends.
pub struct BackgroundTask {
    /// For logs, e.g. `commerce/order-sweeper`.
    pub name: String,
    pub run: BoxFuture<'static, ()>,
}

impl BackgroundTask {
    pub fn new(
        name: impl Into<String>,
        run: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            run: Box::pin(run),
        }
    }
}

/// What seeding demo data did, for the start-up line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// Records created now; 0 when the seed was already there.
    pub created: usize,
    /// What they are, e.g. `users`, `hosts`, `documents`.
    pub what: &'static str,
}

/// Loads a subgraph's demo data; idempotent, so every start may call it.
#[async_trait]
pub trait DemoSeed: Send + Sync {
    async fn seed(&self) -> anyhow::Result<SeedReport>;
}

/// Whether the opening process will serve the subgraph's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Inside the gateway, called without a socket.
    InProcess,
    /// On its own, `polygate-<name> serve`.
    Standalone,
    /// Elsewhere (the gateway has its `url`): only opened when the subgraph
    /// [provides](Subgraph::provides) a capability the process needs; no schema is served.
    Remote,
}

/// What [`Subgraph::open`] is given.
#[derive(Debug, Clone)]
pub struct OpenContext {
    /// Where embedded stores keep their files (`server.data_dir`); created before `open`.
    pub data_dir: PathBuf,
    pub placement: Placement,
    /// Provide what this subgraph lends others; take what it needs (or keep the handle and take
    /// it when first needed: providers may open after consumers).
    pub capabilities: Capabilities,
}

/// An opened subgraph.
pub struct Opened {
    /// `None` only when opened with [`Placement::Remote`].
    pub schema: Option<Arc<dyn SubgraphSchema>>,
    /// Everything `/ready` must check for this subgraph's stores.
    pub probes: Vec<Arc<dyn Probe>>,
    pub tasks: Vec<BackgroundTask>,
    /// Demo data; the gateway seeds it on start when the store is [embedded](Subgraph::embedded).
    pub seed: Option<Arc<dyn DemoSeed>>,
}

/// A key-named problem with a subgraph's settings; the process prefixes the section.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct SettingsError {
    /// The key inside the section, e.g. `store` or `shards.b`.
    pub key: String,
    pub message: String,
}

impl SettingsError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// A failure of [`Subgraph::open`] that names the settings key at fault, so a process can say
/// `subgraphs.<name>.<key>: …`: wrap store errors with [`OpenError::at`].
#[derive(Debug, thiserror::Error)]
#[error("{key}: {message}: {source:#}")]
pub struct OpenError {
    /// The key inside the section, e.g. `store`.
    pub key: String,
    /// What could not be done, without secrets (URLs redacted).
    pub message: String,
    pub source: anyhow::Error,
}

impl OpenError {
    pub fn at(
        key: impl Into<String>,
        message: impl Into<String>,
        source: impl Into<anyhow::Error>,
    ) -> anyhow::Error {
        OpenError {
            key: key.into(),
            message: message.into(),
            source: source.into(),
        }
        .into()
    }
}

/// `subgraphs.<name>.<key>: …` for an [`OpenError`], `subgraphs.<name>: cannot open: …` else.
pub fn describe_open_failure(name: &str, error: &anyhow::Error) -> String {
    match error.downcast_ref::<OpenError>() {
        Some(at_key) => format!("subgraphs.{name}.{at_key}"),
        None => format!("subgraphs.{name}: cannot open its store: {error:#}"),
    }
}

/// One subgraph, as the gateway's registry and the standalone runner see it.
///
/// Implemented by a unit struct in each subgraph crate (`polygate_commerce::Commerce`, …).
/// `open` runs once at start-up on the thread that starts the process (`block_on`), so its
/// future need not be `Send`: sqlx's connection futures, awaited through a generic lifetime,
/// cannot be proven `Send` by today's compiler.
#[async_trait(?Send)]
pub trait Subgraph: Send + Sync + 'static {
    /// `[subgraphs.<name>]` without `url` and `listen`: `#[serde(deny_unknown_fields, default)]`,
    /// and `Default` is the embedded store.
    type Settings: DeserializeOwned + Serialize + Default + Debug + Clone + Send + Sync + 'static;

    /// The name in the supergraph, `[subgraphs.<name>]`, metrics and logs.
    const NAME: &'static str;
    /// The port `polygate-<name> serve` binds on 127.0.0.1 when nothing else is said.
    const DEFAULT_PORT: u16;

    /// The capabilities `open` provides from this subgraph's stores. A process opens the stores
    /// of a subgraph that runs elsewhere ([`Placement::Remote`]) only when it needs one of them:
    /// the gateway itself needs the token verifier (session), a subgraph it runs in-process
    /// needs what that subgraph [needs](Subgraph::needs) (search in the gateway reads catalog's
    /// feed; a remote search does not, so a remote catalog is then not opened at all).
    fn provides() -> Vec<CapabilityId> {
        Vec::new()
    }

    /// The capabilities this subgraph takes from others while it serves.
    fn needs() -> Vec<CapabilityId> {
        Vec::new()
    }

    /// The federation SDL this code serves (what `schema/<name>.graphql` must hold); opens nothing.
    fn sdl() -> String;

    /// Checks what types cannot; `remote` is true when the gateway calls the subgraph at a `url`.
    fn validate(_settings: &Self::Settings, _remote: bool) -> Result<(), SettingsError> {
        Ok(())
    }

    /// True when the settings keep data in the embedded store under `data_dir` (demo data is
    /// seeded there on start).
    fn embedded(settings: &Self::Settings) -> bool;

    /// Connects (and migrates) the stores the settings name, builds the schema unless
    /// `ctx.placement` is [`Placement::Remote`], and provides capabilities.
    async fn open(settings: &Self::Settings, ctx: OpenContext) -> anyhow::Result<Opened>;
}

/// A [`Subgraph`] with its types erased, for registries (`Arc<dyn AnySubgraph>`).
#[async_trait(?Send)]
pub trait AnySubgraph: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    /// False for a subgraph this process knows by name only ([`not_linked`]): it can only be
    /// called at its `url`.
    fn linked(&self) -> bool;
    fn default_port(&self) -> u16;
    fn provides(&self) -> Vec<CapabilityId>;
    fn needs(&self) -> Vec<CapabilityId>;
    fn sdl(&self) -> String;
    /// Parses and validates a section (without `url` and `listen`).
    fn parse(&self, section: toml::Table, remote: bool) -> Result<ParsedSettings, SettingsError>;
    /// The default settings, as the example file must document them.
    fn default_settings(&self) -> ParsedSettings;
    async fn open(&self, settings: &ParsedSettings, ctx: OpenContext) -> anyhow::Result<Opened>;
}

/// Settings parsed by [`AnySubgraph::parse`]: opaque except for what every process reads.
#[derive(Clone)]
pub struct ParsedSettings {
    value: Arc<dyn std::any::Any + Send + Sync>,
    debug: String,
    serialized: serde_json::Value,
    embedded: bool,
}

impl ParsedSettings {
    /// True when the store is the embedded one.
    pub fn embedded(&self) -> bool {
        self.embedded
    }

    /// The typed settings, when they are `T`'s (a subgraph's own commands read their section).
    pub fn get<T: 'static>(&self) -> Option<&T> {
        self.value.downcast_ref::<T>()
    }

    /// Every dotted key path these settings have, under `prefix` (for suggestions).
    pub fn key_paths(&self, prefix: &str) -> Vec<String> {
        crate::config::key_paths(prefix, &self.serialized)
    }
}

impl Debug for ParsedSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.debug)
    }
}

/// Wraps a [`Subgraph`] type as a registry entry.
pub fn entry<S: Subgraph>() -> Arc<dyn AnySubgraph> {
    Arc::new(Entry::<S>(std::marker::PhantomData))
}

struct Entry<S>(std::marker::PhantomData<fn() -> S>);

impl<S: Subgraph> Entry<S> {
    fn wrap(settings: S::Settings) -> ParsedSettings {
        ParsedSettings {
            debug: format!("{settings:?}"),
            serialized: serde_json::to_value(&settings).unwrap_or_default(),
            embedded: S::embedded(&settings),
            value: Arc::new(settings),
        }
    }
}

#[async_trait(?Send)]
impl<S: Subgraph> AnySubgraph for Entry<S> {
    fn name(&self) -> &'static str {
        S::NAME
    }

    fn linked(&self) -> bool {
        true
    }

    fn default_port(&self) -> u16 {
        S::DEFAULT_PORT
    }

    fn provides(&self) -> Vec<CapabilityId> {
        S::provides()
    }

    fn needs(&self) -> Vec<CapabilityId> {
        S::needs()
    }

    fn sdl(&self) -> String {
        S::sdl()
    }

    fn parse(&self, section: toml::Table, remote: bool) -> Result<ParsedSettings, SettingsError> {
        let settings: S::Settings = toml::Value::Table(section)
            .try_into()
            .map_err(|e: toml::de::Error| SettingsError::new("", e.message().to_owned()))?;
        S::validate(&settings, remote)?;
        Ok(Self::wrap(settings))
    }

    fn default_settings(&self) -> ParsedSettings {
        Self::wrap(S::Settings::default())
    }

    async fn open(&self, settings: &ParsedSettings, ctx: OpenContext) -> anyhow::Result<Opened> {
        let settings = settings
            .value
            .downcast_ref::<S::Settings>()
            .ok_or_else(|| anyhow::anyhow!("settings of another subgraph given to {}", S::NAME))?;
        S::open(settings, ctx).await
    }
}

/// A subgraph of the supergraph whose crate this build does not link (a gateway built without
/// the cargo feature `feature`): the process knows its name, so its section is still
/// `[subgraphs.<name>]`, but it can only run elsewhere. Its section takes the keys of every
/// section (`url`, `listen`) and nothing else, and `url` is required; each refusal names the
/// cargo feature that would link it. It has no SDL and never opens.
pub fn not_linked(name: &'static str, feature: &'static str) -> Arc<dyn AnySubgraph> {
    Arc::new(NotLinked { name, feature })
}

struct NotLinked {
    name: &'static str,
    feature: &'static str,
}

impl NotLinked {
    fn not_included(&self) -> String {
        format!(
            "this build does not include the {} subgraph (cargo feature `{}`)",
            self.name, self.feature
        )
    }
}

#[async_trait(?Send)]
impl AnySubgraph for NotLinked {
    fn name(&self) -> &'static str {
        self.name
    }

    fn linked(&self) -> bool {
        false
    }

    fn default_port(&self) -> u16 {
        0
    }

    fn provides(&self) -> Vec<CapabilityId> {
        Vec::new()
    }

    fn needs(&self) -> Vec<CapabilityId> {
        Vec::new()
    }

    fn sdl(&self) -> String {
        String::new()
    }

    fn parse(&self, section: toml::Table, remote: bool) -> Result<ParsedSettings, SettingsError> {
        if let Some(key) = section.keys().next() {
            return Err(SettingsError::new(
                key.clone(),
                format!(
                    "{}: only `{}` (and `{}`) can be set for it here, its stores are \
                     configured where it runs",
                    self.not_included(),
                    crate::config::URL_KEY,
                    crate::config::LISTEN_KEY,
                ),
            ));
        }
        if !remote {
            let key = format!("subgraphs.{}.{}", self.name, crate::config::URL_KEY);
            return Err(SettingsError::new(
                crate::config::URL_KEY,
                format!(
                    "must be set: {}, so it runs as its own service; set {key} (or {}) to its \
                     GraphQL endpoint, or build with the feature",
                    self.not_included(),
                    crate::config::env_name(&key),
                ),
            ));
        }
        Ok(self.default_settings())
    }

    fn default_settings(&self) -> ParsedSettings {
        ParsedSettings {
            value: Arc::new(()),
            debug: "not linked".to_owned(),
            serialized: serde_json::Value::Object(Default::default()),
            embedded: false,
        }
    }

    async fn open(&self, _settings: &ParsedSettings, _ctx: OpenContext) -> anyhow::Result<Opened> {
        anyhow::bail!("{}", self.not_included())
    }
}
