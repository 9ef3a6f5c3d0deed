//! `polygate-catalog`: the kit's `serve` and `schema`, plus the catalog's own operations —
//! `dump` / `restore` (the driver-based `mongodump` equivalent, also for the embedded store),
//! `seed` (demo content) and `generate` (bench products with a progress bar).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use polygate_catalog::{Catalog, CatalogSettings, dump, generator, settings};
use polygate_kit::standalone::{Command as Common, ConfigArgs, Standalone};

polygate_kit::use_mimalloc!();

#[derive(Parser)]
#[command(
    name = "polygate-catalog",
    version,
    about = "The polygate catalog subgraph"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    #[command(flatten)]
    Common(Common),
    /// Write every collection to DIR (JSON lines + manifest).
    Dump {
        #[command(flatten)]
        config: ConfigArgs,
        #[arg(long)]
        out: PathBuf,
    },
    /// Load a dump from DIR (documents with the same ids are replaced).
    Restore {
        #[command(flatten)]
        config: ConfigArgs,
        #[arg(long)]
        from: PathBuf,
    },
    /// Load the demo content (idempotent).
    Seed {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Load generated products GEN-0000000 … for the benchmark (deterministic: product n is
    /// always the same), in batches, with a progress bar on stderr.
    Generate {
        #[command(flatten)]
        config: ConfigArgs,
        #[arg(long, default_value_t = 100_000)]
        products: u64,
        /// Start at this product number (to add to an earlier load).
        #[arg(long, default_value_t = 0)]
        from: u64,
        #[arg(long, default_value_t = 500)]
        batch: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let standalone = Standalone::new(polygate_kit::subgraph::entry::<Catalog>());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("polygate-catalog: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&standalone, cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("polygate-catalog: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn open(
    standalone: &Standalone,
    config: &ConfigArgs,
) -> anyhow::Result<(
    CatalogSettings,
    std::sync::Arc<dyn polygate_catalog::CatalogStore>,
)> {
    let (settings, data_dir) = settings::load(standalone, config)?;
    std::fs::create_dir_all(&data_dir)?;
    let store = polygate_catalog::open_store(&settings, &data_dir).await?;
    Ok((settings, store))
}

async fn run(standalone: &Standalone, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Common(common) => standalone.run(common).await,
        Command::Dump { config, out } => {
            let (_, store) = open(standalone, &config).await?;
            let report = dump::dump(store.as_ref(), &out).await?;
            println!("dumped {report} to {}", out.display());
            Ok(())
        }
        Command::Restore { config, from } => {
            let (_, store) = open(standalone, &config).await?;
            let report = dump::restore(store.as_ref(), &from).await?;
            println!("restored {report} from {}", from.display());
            Ok(())
        }
        Command::Seed { config } => {
            let (_, store) = open(standalone, &config).await?;
            let report = polygate_catalog::seed::seed_demo(store.as_ref()).await?;
            println!("seeded {} {}", report.created, report.what);
            Ok(())
        }
        Command::Generate {
            config,
            products,
            from,
            batch,
        } => {
            let (_, store) = open(standalone, &config).await?;
            let started = std::time::Instant::now();
            let total = products;
            generator::load(store.as_ref(), from, from + products, batch, |done| {
                progress(done, total, started)
            })
            .await?;
            eprintln!();
            println!(
                "generated {products} products (GEN-{from:07}…) in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

/// `[#####     ] 52% 52000/100000 products, 1234/s` on one line of stderr.
fn progress(done: u64, total: u64, started: std::time::Instant) {
    let width = 40;
    let filled = (done * width / total.max(1)) as usize;
    let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
    eprint!(
        "\r[{}{}] {:>3}% {done}/{total} products, {rate:.0}/s",
        "#".repeat(filled),
        " ".repeat(width as usize - filled),
        done * 100 / total.max(1)
    );
    let _ = std::io::stderr().flush();
}
