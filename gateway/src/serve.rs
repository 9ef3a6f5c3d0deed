//! `polygate serve`: connect the stores, publish the plugins' state, start Hive Router.
//!
//! Two runtimes by design: a tokio multi-thread runtime owns every store pool and runs in-process
//! subgraphs; Hive Router's ntex server runs its own per-worker runtimes and hands work over.

use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::Context;
use hive_router::{
    PluginRegistry, error::RouterInitError, init_rustls_crypto_provider, router_entrypoint,
};

use crate::config::Config;
use crate::{plugins, router_config, seed, state, wiring};

pub struct ServeOptions {
    pub config: Config,
    /// A supergraph other than the configured one (e.g. one with other teams' subgraphs).
    pub supergraph: Option<PathBuf>,
}

pub fn run(options: ServeOptions) -> anyhow::Result<()> {
    let config = options.config;
    let supergraph = options
        .supergraph
        .unwrap_or_else(|| config.server.supergraph.clone());
    let supergraph = std::fs::canonicalize(&supergraph)
        .with_context(|| format!("server.supergraph: cannot read `{}`", supergraph.display()))?;

    // In-process subgraphs resolve on this runtime; with every subgraph remote it only carries
    // the sign-in checks the validation cache cannot answer, and one worker is plenty.
    let store_workers = if config.any_in_process() { 2 } else { 1 };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("polygate-stores")
        .worker_threads(store_workers)
        .enable_all()
        .build()
        .context("cannot start the store runtime")?;
    let stores = runtime.block_on(wiring::connect(&config))?;
    if config.server.seed_demo_data && config.commerce_embedded() {
        let report = runtime.block_on(seed::demo(&stores))?;
        if report.created > 0 {
            eprintln!("seeded demo data: {} users", report.created);
        }
    }
    state::publish(wiring::gateway_state(
        &config,
        &stores,
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

#[hive_router::main]
async fn run_router(registry: PluginRegistry) -> Result<(), RouterInitError> {
    // The engine's HTTP client speaks TLS to remote subgraphs; rustls needs its provider chosen.
    init_rustls_crypto_provider();
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
