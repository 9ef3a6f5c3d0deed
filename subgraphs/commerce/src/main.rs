//! `polygate-commerce`: the kit's standalone runner for the commerce subgraph (`serve`,
//! `schema`), plus the commands that work on the Postgres topology itself (`generate`,
//! `move-shard`). Everything reads `[subgraphs.commerce]` from polygate.toml (`--config`) and
//! `POLYGATE_SUBGRAPHS__COMMERCE__*`, as the gateway does.
//!
//! Sign-in in service mode: with `[subgraphs.session] url` set, `login` issues tokens through the
//! session service (its `/capabilities/session-issuer`). Without it, `login` answers `INTERNAL`
//! "sign-in is served by the gateway".

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use polygate_commerce::store::postgres::MAP_REFRESH;
use polygate_commerce::store::postgres::shard_move::{move_shard, purge_moved_shard};
use polygate_commerce::{Commerce, CommerceSettings, PasswordHasher, generator};
use polygate_kit::standalone::{self, ConfigArgs, Standalone};
use polygate_kit::subgraph::entry;

#[derive(Parser)]
#[command(
    name = "polygate-commerce",
    version,
    about = "The polygate commerce subgraph"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    #[command(flatten)]
    Common(standalone::Command),
    /// Load a deterministic bench dataset into a Postgres store (see `generator.rs`): users
    /// bench-<n>@example.com (password `polygate-bench`), products BENCH-<n>, and orders over
    /// the twelve months before --until. Refuses a store that already holds bench rows.
    Generate {
        #[command(flatten)]
        config: ConfigArgs,
        #[arg(long, default_value_t = 10_000)]
        users: u64,
        #[arg(long, default_value_t = 100_000)]
        orders: u64,
        #[arg(long, default_value_t = 1_000)]
        products: u64,
        /// Same seed and --until, same rows.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Orders end before this UTC day (YYYY-MM-DD); default today.
        #[arg(long)]
        until: Option<chrono::NaiveDate>,
    },
    /// Move one logical shard (0..256) to the shard database NAME (a key of
    /// `[subgraphs.commerce.shards]`, or `main`): fence, copy, switch the map.
    MoveShard {
        #[command(flatten)]
        config: ConfigArgs,
        #[arg(long)]
        shard: u16,
        #[arg(long)]
        to: String,
    },
}

fn standalone() -> Standalone {
    Standalone::new(entry::<Commerce>()).with_remote_provider("session")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("polygate-commerce: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Common(common) => standalone().run(common).await,
        Command::Generate {
            config,
            users,
            orders,
            products,
            seed,
            until,
        } => {
            polygate_kit::telemetry::init();
            let opened = open_postgres(&config).await?;
            let spec = generator::Spec {
                users,
                orders,
                products,
                seed,
                until: until.map_or_else(generator::Spec::today, |day| {
                    day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
                }),
            };
            let report = generator::generate(&opened, &spec, &PasswordHasher::default()).await?;
            println!("{report}");
            Ok(())
        }
        Command::MoveShard { config, shard, to } => {
            polygate_kit::telemetry::init();
            let router = open_postgres(&config).await?;
            let report = move_shard(&router, shard, &to).await?;
            println!("moved: {report:?}");
            // Every router re-reads the map within MAP_REFRESH; only then is the old copy unread.
            tokio::time::sleep(MAP_REFRESH * 2 + Duration::from_secs(1)).await;
            let purged = purge_moved_shard(&router, shard).await?;
            println!("purged the old copy: {purged:?}");
            Ok(())
        }
    }
}

/// The Postgres router `[subgraphs.commerce]` names, for the commands that need one.
async fn open_postgres(
    config: &ConfigArgs,
) -> anyhow::Result<std::sync::Arc<polygate_commerce::PostgresStore>> {
    let loaded = standalone().load(config)?;
    let settings: &CommerceSettings = loaded
        .section
        .settings
        .get()
        .ok_or_else(|| anyhow::anyhow!("commerce settings expected"))?;
    let opened = polygate_commerce::open(&settings.store_settings(&loaded.data_dir)).await?;
    opened
        .postgres
        .ok_or_else(|| anyhow::anyhow!("subgraphs.commerce.store must be a postgres:// URL here"))
}
