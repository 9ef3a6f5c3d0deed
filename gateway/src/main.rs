//! The `polygate` command line: `serve`, `seed`, `schema export|check`.

// ntex composes its HTTP service types deeply; the optimised build needs the same limit as
// Hive Router's own binary.
#![recursion_limit = "256"]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use polygate::config::Config;
use polygate::{registry, schema_files, seed, serve, wiring};

hive_router::configure_global_allocator!();
use hive_router::RouterGlobalAllocator;

#[derive(Parser)]
#[command(
    name = "polygate",
    version,
    about = "One GraphQL API over several databases, each chosen for the job it does best"
)]
struct Cli {
    /// Configuration file; missing is fine unless given explicitly.
    #[arg(long, global = true, env = "POLYGATE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway (every subgraph in-process on embedded stores unless configured; their
    /// files under `server.data_dir`, default `./data`).
    Serve {
        /// Serve this supergraph instead of the configured one (default: the one this binary
        /// was built with); subgraphs that are not ours are called over HTTP at the URL it names.
        #[arg(long)]
        supergraph: Option<PathBuf>,
    },
    /// Load every subgraph's demo data into its configured store (idempotent).
    Seed,
    /// Subgraph SDL files in schema/.
    Schema {
        #[command(subcommand)]
        action: SchemaAction,
        /// The schema folder.
        #[arg(long, default_value = "schema")]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum SchemaAction {
    /// Write schema/<subgraph>.graphql from the code.
    Export,
    /// Fail when schema/<subgraph>.graphql differs from the code.
    Check,
}

fn main() -> ExitCode {
    // Before any store opens (serve, seed, schema): rediss:// and neo4j+s:// connect through
    // rustls, which cannot pick between the two providers this binary links (ring, aws-lc-rs).
    polygate_kit::tls::install_crypto_provider();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("polygate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(path: Option<PathBuf>) -> anyhow::Result<Config> {
    let required = path.is_some();
    let path = path.unwrap_or_else(|| PathBuf::from("polygate.toml"));
    Ok(Config::load(&path, required, &registry::subgraphs())?)
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { supergraph } => serve::run(serve::ServeOptions {
            config: load_config(cli.config)?,
            supergraph,
        }),
        Command::Seed => {
            let config = load_config(cli.config)?;
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async {
                let graph = wiring::open(&config).await?;
                let seeded = seed::demo(&graph, false).await?;
                match seed::summary(&seeded).as_str() {
                    "" => println!("the demo data was already there"),
                    summary => println!("seeded {summary}"),
                }
                anyhow::Ok(())
            })
        }
        Command::Schema { action, dir } => {
            let registry = registry::subgraphs();
            // A build without some subgraphs' features (the gateway-only build) has no code for
            // them: it says so rather than pass files it never compared.
            let not_linked = schema_files::not_linked(&registry);
            let not_in_build = || {
                format!(
                    "{} (this build does not include them: build with their cargo features, \
                     e.g. the default ones)",
                    not_linked.join(", ")
                )
            };
            match action {
                SchemaAction::Export => {
                    for path in schema_files::export(&dir, &registry)? {
                        println!("wrote {}", path.display());
                    }
                    if !not_linked.is_empty() {
                        println!("not exported: {}", not_in_build());
                    }
                    println!("now run `schema/compose` to rebuild schema/supergraph.graphql");
                    Ok(())
                }
                SchemaAction::Check => {
                    let drifted = schema_files::drifted(&dir, &registry);
                    if !drifted.is_empty() {
                        anyhow::bail!(
                            "out of date: {}; run `polygate schema export` and `schema/compose`",
                            drifted.join(", ")
                        )
                    }
                    if !not_linked.is_empty() {
                        let checked: Vec<&str> = schema_files::subgraph_sdls(&registry)
                            .into_iter()
                            .map(|(name, _)| name)
                            .collect();
                        anyhow::bail!(
                            "cannot check {}; checked and matching the code: {}",
                            not_in_build(),
                            checked.join(", ")
                        )
                    }
                    println!("schema files match the code");
                    Ok(())
                }
            }
        }
    }
}
