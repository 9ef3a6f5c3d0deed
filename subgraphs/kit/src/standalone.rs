//! `polygate-<name> serve|schema`: any subgraph served on its own, the same way for all.
//!
//! The binary of each subgraph is this runner given that subgraph's value. It reads the same
//! `polygate.toml` as the gateway (`--config` or `POLYGATE_CONFIG`, then `POLYGATE_*` variables),
//! takes its own `[subgraphs.<name>]` section, binds `listen`, and serves `/graphql`, `/health`,
//! `/ready` and `/metrics`, plus `/capabilities/…` for what it lends other services. Non-obvious:
//! a subgraph that uses another's capability (commerce's `login` issues session tokens) names
//! that subgraph as a *remote provider*, reached at the `url` of its section
//! ([`crate::remote_capabilities`]); with no `url` configured the capability is simply absent,
//! so a service never issues tokens into a store of its own that nobody else reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;

use crate::capabilities::Capabilities;
use crate::config::{self, ConfigError, SubgraphSection};
use crate::subgraph::{AnySubgraph, OpenContext, Opened, Placement, describe_open_failure};

/// The subcommands every subgraph binary has; a binary with more flattens these into its own.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Serve /graphql, /health, /ready and /metrics at `[subgraphs.<name>] listen`.
    Serve(ServeArgs),
    /// Print the subgraph's federation SDL (opens nothing).
    Schema,
}

#[derive(clap::Args, Clone, Default)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Bind here instead of the section's `listen` (default 127.0.0.1:<the subgraph's port>).
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Load this subgraph's demo data on start (idempotent).
    #[arg(long)]
    pub seed_demo: bool,
}

/// Where the configuration comes from.
#[derive(clap::Args, Clone, Default)]
pub struct ConfigArgs {
    /// polygate.toml; a missing file is fine unless named explicitly.
    #[arg(long, env = "POLYGATE_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(clap::Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// A subgraph and the subgraphs whose capabilities it uses, served elsewhere.
#[derive(Clone)]
pub struct Standalone {
    subgraph: Arc<dyn AnySubgraph>,
    remote_providers: Vec<&'static str>,
}

/// The configuration a standalone process runs with.
#[derive(Debug)]
pub struct Loaded {
    pub section: SubgraphSection,
    /// `url` of each remote provider whose section names one.
    pub remote_providers: Vec<(&'static str, String)>,
    /// `server.data_dir` of the file, for embedded stores.
    pub data_dir: PathBuf,
}

impl std::fmt::Debug for dyn AnySubgraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "subgraph {}", self.name())
    }
}

impl Standalone {
    pub fn new(subgraph: Arc<dyn AnySubgraph>) -> Self {
        Self {
            subgraph,
            remote_providers: Vec::new(),
        }
    }

    /// The subgraph `name` provides capabilities this one uses: when `[subgraphs.<name>] url` is
    /// configured, they are reached at that service ([`crate::remote_capabilities`]).
    pub fn with_remote_provider(mut self, name: &'static str) -> Self {
        self.remote_providers.push(name);
        self
    }

    /// Parses the command line and runs [`Command`]: the whole `main` of a subgraph binary.
    pub fn main(self) -> ExitCode {
        crate::tls::install_crypto_provider();
        let cli = <Cli as clap::Parser>::parse();
        let runtime = match tokio::runtime::Runtime::new() {
            Ok(runtime) => runtime,
            Err(e) => {
                eprintln!(
                    "polygate-{}: cannot start a runtime: {e}",
                    self.subgraph.name()
                );
                return ExitCode::FAILURE;
            }
        };
        match runtime.block_on(self.run(cli.command)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("polygate-{}: {e:#}", self.subgraph.name());
                ExitCode::FAILURE
            }
        }
    }

    /// Runs one of the common subcommands.
    pub async fn run(&self, command: Command) -> anyhow::Result<()> {
        crate::tls::install_crypto_provider();
        match command {
            Command::Schema => {
                print!("{}", self.subgraph.sdl());
                Ok(())
            }
            Command::Serve(args) => self.serve(args).await,
        }
    }

    /// Loads the configuration from `args` and the process environment.
    pub fn load(&self, args: &ConfigArgs) -> Result<Loaded, ConfigError> {
        let required = args.config.is_some();
        let path = args
            .config
            .clone()
            .unwrap_or_else(|| PathBuf::from("polygate.toml"));
        let text = config::read_file(&path, required)?;
        let env: BTreeMap<String, String> = std::env::vars().collect();
        self.load_from(&path.display().to_string(), &text, &env)
    }

    /// [`load`](Self::load) from a file's text and an environment (pure, for tests).
    pub fn load_from(
        &self,
        origin: &str,
        text: &str,
        env: &BTreeMap<String, String>,
    ) -> Result<Loaded, ConfigError> {
        let mut known = vec!["server.data_dir".to_owned()];
        known.extend(section_keys(self.subgraph.as_ref()));
        for name in &self.remote_providers {
            known.push(format!("subgraphs.{name}.{}", config::URL_KEY));
        }
        let mut table = config::layered(origin, text, env, &known)?;
        let data_dir = match table.get("server").and_then(|s| s.get("data_dir")) {
            None => PathBuf::from("data"),
            Some(toml::Value::String(dir)) => PathBuf::from(dir),
            Some(other) => {
                return Err(config::invalid(
                    "server.data_dir",
                    format!("expected a path, got {other}"),
                ));
            }
        };
        let mut sections = match table.remove("subgraphs") {
            None => toml::Table::new(),
            Some(toml::Value::Table(sections)) => sections,
            Some(_) => return Err(config::invalid("subgraphs", "must be a section")),
        };
        let mut take = |name: &str| match sections.remove(name) {
            None => Ok(None),
            Some(toml::Value::Table(section)) => Ok(Some(section)),
            Some(_) => Err(config::invalid(
                format!("subgraphs.{name}"),
                "must be a section",
            )),
        };
        let own = take(self.subgraph.name())?.unwrap_or_default();
        let section = SubgraphSection::parse(self.subgraph.as_ref(), own)?;
        let mut remote_providers = Vec::new();
        for name in &self.remote_providers {
            let url = take(name)?.and_then(|mut table| table.remove(config::URL_KEY));
            match url {
                None => {}
                Some(toml::Value::String(url)) => remote_providers.push((*name, url)),
                Some(other) => {
                    return Err(config::invalid(
                        format!("subgraphs.{name}.{}", config::URL_KEY),
                        format!("expected a string, got {other}"),
                    ));
                }
            }
        }
        Ok(Loaded {
            section,
            remote_providers,
            data_dir,
        })
    }

    /// Opens the subgraph, given the capabilities of its configured remote providers; returns it
    /// and the capabilities it provides itself.
    pub async fn open(&self, loaded: &Loaded) -> anyhow::Result<(Opened, Capabilities)> {
        let capabilities = Capabilities::default();
        for (name, url) in &loaded.remote_providers {
            crate::remote_capabilities::provide_remote(&capabilities, url)
                .with_context(|| format!("subgraphs.{name}.url: `{url}`"))?;
        }
        prepare_data_dir(&loaded.data_dir, loaded.section.settings.embedded())?;
        let name = self.subgraph.name();
        let before = capabilities.provided();
        let context = OpenContext {
            data_dir: loaded.data_dir.clone(),
            placement: Placement::Standalone,
            capabilities: capabilities.clone(),
        };
        let opened = self
            .subgraph
            .open(&loaded.section.settings, context)
            .await
            .map_err(|e| anyhow::anyhow!(describe_open_failure(name, &e)))?;
        // Served at /capabilities: what the subgraph provides itself, not what it was given.
        Ok((opened, capabilities.added_since(&before)))
    }

    /// `serve`: open, seed when asked, spawn background tasks, serve until Ctrl-C / SIGTERM.
    pub async fn serve(&self, args: ServeArgs) -> anyhow::Result<()> {
        crate::telemetry::init();
        let loaded = self.load(&args.config)?;
        let (opened, provided) = self.open(&loaded).await?;
        let name = self.subgraph.name();
        if args.seed_demo
            && let Some(seed) = &opened.seed
        {
            let report = seed.seed().await.context("demo seed")?;
            tracing::info!(
                subgraph = name,
                created = report.created,
                what = report.what,
                "demo seed"
            );
        }
        spawn_all(opened.tasks);
        let schema = opened
            .schema
            .ok_or_else(|| anyhow::anyhow!("{name} opened without a schema"))?;
        let app = crate::server::router(schema, opened.probes, &provided);
        let listen = args.listen.unwrap_or(loaded.section.listen);
        crate::server::serve(app, listen, name).await?;
        Ok(())
    }
}

/// The dotted key paths of a subgraph's section, `url` and `listen` included.
pub fn section_keys(subgraph: &dyn AnySubgraph) -> Vec<String> {
    let prefix = format!("subgraphs.{}", subgraph.name());
    let mut keys = subgraph.default_settings().key_paths(&prefix);
    keys.push(format!("{prefix}.{}", config::URL_KEY));
    keys.push(format!("{prefix}.{}", config::LISTEN_KEY));
    keys
}

/// Creates `data_dir` when an embedded store will keep files there.
pub fn prepare_data_dir(data_dir: &Path, embedded: bool) -> anyhow::Result<()> {
    if embedded {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("server.data_dir: cannot create `{}`", data_dir.display()))?;
    }
    Ok(())
}

/// Spawns every task on the current runtime.
pub fn spawn_all(tasks: Vec<crate::subgraph::BackgroundTask>) {
    for task in tasks {
        tracing::debug!(task = task.name, "starting background task");
        tokio::spawn(task.run);
    }
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::subgraph::{SettingsError, Subgraph, entry};

    struct Tiny;

    #[derive(Debug, Clone, Default, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, default)]
    struct TinySettings {
        store: String,
    }

    #[async_trait(?Send)]
    impl Subgraph for Tiny {
        type Settings = TinySettings;
        const NAME: &'static str = "tiny";
        const DEFAULT_PORT: u16 = 4090;

        fn sdl() -> String {
            String::new()
        }

        fn validate(s: &TinySettings, _remote: bool) -> Result<(), SettingsError> {
            match s.store.as_str() {
                "" | "memory" => Ok(()),
                _ => Err(SettingsError::new("store", "must be memory")),
            }
        }

        fn embedded(_: &TinySettings) -> bool {
            true
        }

        async fn open(_: &TinySettings, _: OpenContext) -> anyhow::Result<Opened> {
            anyhow::bail!("not opened in these tests")
        }
    }

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Loaded, ConfigError> {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Standalone::new(entry::<Tiny>())
            .with_remote_provider("session")
            .load_from("polygate.toml", text, &env)
    }

    #[test]
    fn a_service_listens_on_its_default_port_unless_its_section_says_otherwise() {
        let loaded = load("", &[]).unwrap();
        assert_eq!(loaded.section.listen.to_string(), "127.0.0.1:4090");
        assert_eq!(loaded.data_dir, PathBuf::from("data"));
        let loaded = load("", &[("POLYGATE_SUBGRAPHS__TINY__LISTEN", "0.0.0.0:9000")]).unwrap();
        assert_eq!(loaded.section.listen.to_string(), "0.0.0.0:9000");
    }

    #[test]
    fn a_remote_provider_is_reached_at_its_url_and_the_rest_of_its_section_is_not_read() {
        let loaded = load(
            "[subgraphs.session]\nurl = \"http://sessions:4002/graphql\"\nstore = \"anything\"\n\
             [subgraphs.other]\nwhatever = 1\n",
            &[],
        )
        .unwrap();
        assert_eq!(
            loaded.remote_providers,
            [("session", "http://sessions:4002/graphql".to_owned())]
        );
        assert!(load("", &[]).unwrap().remote_providers.is_empty());
    }

    #[test]
    fn its_own_section_is_validated_by_the_subgraph_and_named_in_errors() {
        let err = load("[subgraphs.tiny]\nstore = \"disk\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("subgraphs.tiny.store"), "{err}");
        let err = load("", &[("POLYGATE_LISTEN", "0.0.0.0:1")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("POLYGATE_SUBGRAPHS__TINY__LISTEN"), "{err}");
    }
}
