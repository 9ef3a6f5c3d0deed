//! `polygate-telemetry`: serves the telemetry subgraph on its own (`serve`, `schema`, the kit's
//! common commands), loads TSBS-shaped data (`generate`), takes agents' readings in bulk
//! (`ingest`), runs maintenance once (`maintain`), and writes the benchmark's query set
//! (`bench-queries`).

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use polygate_kit::standalone::{Command as Common, Standalone};
use polygate_telemetry::bulk::BulkOptions;
use polygate_telemetry::cli::{self, StoreArgs};
use polygate_telemetry::domain::Measurement;

polygate_kit::use_mimalloc!();

#[derive(Parser)]
#[command(
    name = "polygate-telemetry",
    version,
    about = "The polygate telemetry subgraph"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    #[command(flatten)]
    Common(Common),
    /// Register N TSBS devops hosts and load D days of their readings every 10 s up to
    /// --until (default now) through the bulk path, with a progress bar; or write them as CSV
    /// files (one per measurement, what `psql \copy` and `ingest` read) with --csv DIR.
    Generate {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, default_value_t = 100)]
        hosts: usize,
        #[arg(long, default_value_t = 3.0)]
        days: f64,
        /// RFC 3339; readings end before it.
        #[arg(long)]
        until: Option<DateTime<Utc>>,
        /// Same seed, same hosts and readings.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Batches written at once.
        #[arg(long, default_value_t = 2)]
        writers: usize,
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// The bulk path for agents: `time,host_id,value,…` lines of one measurement from --file or
    /// stdin, written in batches with binary COPY (PostgreSQL). A batch with a bad row is
    /// refused whole; the exit status is non-zero when any was.
    Ingest {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, value_parser = measurement)]
        measurement: Measurement,
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(long, default_value_t = 20_000)]
        batch_rows: usize,
        #[arg(long, default_value_t = 2)]
        writers: usize,
    },
    /// One maintenance pass now (partitions ahead, rollups, retention) and exit.
    Maintain {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Write the TSBS query set for bench/run: per query NAME.json (GraphQL), NAME.sql and
    /// NAME.vars (the adapter's SQL and parameters for pgbench). PostgreSQL stores only.
    BenchQueries {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        out: PathBuf,
        /// The data's end (RFC 3339); windows end an hour before it.
        #[arg(long)]
        until: DateTime<Utc>,
    },
}

fn measurement(name: &str) -> Result<Measurement, String> {
    Measurement::ALL
        .iter()
        .copied()
        .find(|m| m.table() == name)
        .ok_or_else(|| "one of cpu, mem, disk, net".to_owned())
}

fn main() -> ExitCode {
    let standalone =
        Standalone::new(polygate_kit::subgraph::entry::<polygate_telemetry::Telemetry>());
    match Cli::parse().command {
        Command::Common(common) => run(async move { standalone.run(common).await }),
        Command::Generate {
            store,
            hosts,
            days,
            until,
            seed,
            writers,
            csv,
        } => run(async move {
            cli::generate(&store, hosts, days, until, seed, writers, csv.as_deref()).await
        }),
        Command::Ingest {
            store,
            measurement,
            file,
            batch_rows,
            writers,
        } => run(async move {
            let options = BulkOptions {
                batch_rows,
                writers,
            };
            cli::ingest(&store, measurement, file.as_deref(), options).await
        }),
        Command::Maintain { store } => run(async move { cli::maintain(&store).await }),
        Command::BenchQueries { store, out, until } => {
            run(async move { cli::bench_queries(&store, &out, until).await })
        }
    }
}

/// Runs `command` on a new runtime; its error becomes the exit status.
fn run(command: impl std::future::Future<Output = anyhow::Result<()>>) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("polygate-telemetry: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    polygate_kit::telemetry::init();
    match runtime.block_on(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("polygate-telemetry: {e:#}");
            ExitCode::FAILURE
        }
    }
}
