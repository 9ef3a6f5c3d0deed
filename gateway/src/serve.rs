//! `polygate serve`: connect the stores, publish the plugins' state, start Hive Router.
//!
//! Two runtimes by design: a tokio multi-thread runtime owns every store pool and runs in-process
//! subgraphs; Hive Router's ntex server runs its own per-worker runtimes and hands work over.

use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::Context;
use hive_router::{PluginRegistry, error::RouterInitError, router_entrypoint};

use crate::config::Config;
use crate::{plugins, router_config, seed, state, wiring};

pub struct ServeOptions {
    pub config: Config,
    /// A supergraph other than the configured one (e.g. one with other teams' subgraphs).
    pub supergraph: Option<PathBuf>,
}

/// The supergraph composed from this repository's subgraphs when the binary was built
/// (`schema/supergraph.graphql`): served when neither `--supergraph` nor `server.supergraph`
/// names a file, so the binary runs from any directory.
pub const BUILT_IN_SUPERGRAPH: &str = include_str!("../../schema/supergraph.graphql");

pub fn run(options: ServeOptions) -> anyhow::Result<()> {
    // rustls's provider, for TLS stores and the engine's client to remote subgraphs (idempotent:
    // `main` has installed it already; tests that call `run` have not).
    polygate_kit::tls::install_crypto_provider();
    let config = options.config;
    let supergraph = match options
        .supergraph
        .or_else(|| config.server.supergraph.clone())
    {
        Some(file) => std::fs::canonicalize(&file)
            .with_context(|| format!("server.supergraph: cannot read `{}`", file.display()))?,
        None => write_built_in_supergraph()?,
    };

    // In-process subgraphs resolve on this runtime; with every subgraph remote it only carries
    // the sign-in checks the validation cache cannot answer, and one worker is plenty.
    let store_workers = if config.any_in_process() { 2 } else { 1 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("polygate-stores")
        .worker_threads(store_workers)
        .enable_all()
        .build()
        .context("cannot start the store runtime")?;
    let mut graph = runtime.block_on(wiring::open(&config))?;
    if config.server.seed_demo_data {
        let seeded = runtime.block_on(seed::demo(&graph, true))?;
        let summary = seed::summary(&seeded);
        if !summary.is_empty() {
            eprintln!("seeded demo data: {summary}");
        }
    }
    for task in graph.take_tasks() {
        tracing::debug!(task = task.name, "starting background task");
        runtime.spawn(task.run);
    }
    state::publish(wiring::gateway_state(
        &config,
        &graph,
        runtime.handle().clone(),
    ));

    let router_config = router_config::render(&config, &supergraph);
    let config_path = write_router_config(&router_config)?;
    // SAFETY: set once on the main thread before any other thread reads the environment.
    unsafe { std::env::set_var("ROUTER_CONFIG_FILE_PATH", &config_path) };

    let listen = config.server.listen;
    println!("polygate: GraphiQL on http://{listen}/ , GraphQL on http://{listen}/graphql");
    let result = run_router(plugins::registry());
    let _ = std::fs::remove_file(&config_path);
    drop(runtime);
    result.map_err(|e| anyhow::anyhow!("router failed: {e}"))
}

/// Hive Router reads its supergraph from a file, after its plugins start; the built-in one is
/// written once per content (named by its digest) to the temp folder and left there, so
/// repeated starts reuse it and no process leaves one of its own behind.
fn write_built_in_supergraph() -> anyhow::Result<PathBuf> {
    use sha2::Digest as _;
    let digest = hex::encode(&sha2::Sha256::digest(BUILT_IN_SUPERGRAPH.as_bytes())[..8]);
    let path = std::env::temp_dir().join(format!("polygate-supergraph-{digest}.graphql"));
    let current = std::fs::read_to_string(&path).is_ok_and(|text| text == BUILT_IN_SUPERGRAPH);
    if !current {
        let partial = path.with_extension(format!("{}.tmp", std::process::id()));
        std::fs::write(&partial, BUILT_IN_SUPERGRAPH)
            .and_then(|()| std::fs::rename(&partial, &path))
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    Ok(path)
}

#[hive_router::main]
async fn run_router(registry: PluginRegistry) -> Result<(), RouterInitError> {
    router_entrypoint(registry).await
}

/// The router config file of this process, until [`forget_router_config`] removes it.
static ROUTER_CONFIG: OnceLock<PathBuf> = OnceLock::new();

/// Hive Router reads its config from a file, once, before it starts its plugins; the plugin
/// removes the file then ([`forget_router_config`]), so a process killed by a signal leaves none
/// behind.
fn write_router_config(value: &serde_json::Value) -> anyhow::Result<PathBuf> {
    let path = std::env::temp_dir().join(format!("polygate-router-{}.json", std::process::id()));
    std::fs::write(&path, serde_json::to_vec_pretty(value)?)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    let _ = ROUTER_CONFIG.set(path.clone());
    Ok(path)
}

/// Removes the router config file: the router has read it by the time its plugins start.
pub fn forget_router_config() {
    if let Some(path) = ROUTER_CONFIG.get() {
        let _ = std::fs::remove_file(path);
    }
}
