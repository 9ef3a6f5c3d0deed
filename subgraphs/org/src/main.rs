//! `polygate-org`: serves the org subgraph on its own (`serve`), prints its SDL (`schema`), and
//! the org's own tools: `profile` (PROFILE every named Cypher query on a Neo4j store and print
//! db hits and rows), `export` and `import` (logical backups as a JSON chart).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use polygate_kit::standalone::{Command, ConfigArgs, Standalone};
use polygate_org::{Org, OrgSettings};

polygate_kit::use_mimalloc!();

/// `[subgraphs.org]` from the configuration, for the commands that sign in to a store.
fn org_settings(standalone: &Standalone, config: &ConfigArgs) -> anyhow::Result<OrgSettings> {
    let loaded = standalone.load(config)?;
    loaded
        .section
        .settings
        .get::<OrgSettings>()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("org settings expected"))
}

#[derive(Parser)]
#[command(name = "polygate-org", version, about = "The polygate org subgraph")]
struct Cli {
    #[command(subcommand)]
    command: OrgCommand,
}

#[derive(Subcommand)]
enum OrgCommand {
    #[command(flatten)]
    Common(Command),
    /// PROFILE every named Cypher query on the configured Neo4j store (seeding the demo org if
    /// it is empty) and print each one's db hits, rows and plan.
    Profile {
        /// The Neo4j server, e.g. bolt://127.0.0.1:57687 (auth off, the test server).
        #[arg(long, env = "POLYGATE_TEST_NEO4J_URL")]
        store: String,
        /// Also profile without the org's constraints and indexes (dropped, then restored).
        #[arg(long)]
        compare_indexes: bool,
    },
    /// Write the whole org as a JSON chart to standard output (a logical backup).
    Export {
        /// A Neo4j URL (bolt://, neo4j://, neo4j+s://; credentials from `[subgraphs.org]`) or
        /// sqlite:PATH.
        #[arg(long)]
        store: String,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Load a JSON chart (from `export`) into a store; adds only what is missing.
    Import {
        /// A Neo4j URL (bolt://, neo4j://, neo4j+s://; credentials from `[subgraphs.org]`) or
        /// sqlite:PATH.
        #[arg(long)]
        store: String,
        #[command(flatten)]
        config: ConfigArgs,
        /// The chart file.
        file: std::path::PathBuf,
    },
}

fn main() -> ExitCode {
    let standalone = Standalone::new(polygate_kit::subgraph::entry::<Org>());
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("polygate-org: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            OrgCommand::Common(common) => standalone.run(common).await,
            OrgCommand::Profile {
                store,
                compare_indexes,
            } => polygate_org::store::neo4j::profile::print_all(&store, compare_indexes).await,
            OrgCommand::Export { store, config } => {
                let settings = org_settings(&standalone, &config)?;
                let chart = polygate_org::backup::open(&store, &settings)
                    .await?
                    .export()
                    .await?;
                println!("{}", serde_json::to_string(&chart)?);
                Ok(())
            }
            OrgCommand::Import {
                store,
                config,
                file,
            } => {
                let settings = org_settings(&standalone, &config)?;
                let chart = serde_json::from_slice(&std::fs::read(&file)?)?;
                let added = polygate_org::backup::open(&store, &settings)
                    .await?
                    .import(&chart)
                    .await?;
                eprintln!("added {added} departments and people");
                Ok(())
            }
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("polygate-org: {e:#}");
            ExitCode::FAILURE
        }
    }
}
