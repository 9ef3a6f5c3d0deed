//! `polygate-commerce`: the kit's standalone runner for the commerce subgraph (`serve`,
//! `schema`), plus the commands that work on the store itself (`generate`, `maintain`, `sweep`,
//! `move-shard`). Everything reads `[subgraphs.commerce]` from polygate.toml (`--config`) and
//! `POLYGATE_SUBGRAPHS__COMMERCE__*`, as the gateway does.
//!
//! Sign-in in service mode: with `[subgraphs.session] url` set, `login` issues tokens through the
//! session service (its `/capabilities/session-issuer`). Without it, `login` answers `INTERNAL`
//! "sign-in is served by the gateway".

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use polygate_commerce::orders::{SweepReport, sweep};
use polygate_commerce::store::postgres::MAP_REFRESH;
use polygate_commerce::store::postgres::shard_move::{move_shard, purge_moved_shard};
use polygate_commerce::upkeep::run_pass;
use polygate_commerce::{Commerce, CommerceSettings, PasswordHasher, generator};
use polygate_kit::standalone::{self, ConfigArgs, Standalone};
use polygate_kit::subgraph::entry;

polygate_kit::use_mimalloc!();

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
    /// Run one upkeep pass now, on every database of the store: the months of partitions ahead
    /// (`premake_months`), old months detached (`retain_months`; concurrently where the server
    /// allows), settled rows archived (`archive_after_days`), the stock counters checked. Safe
    /// beside the in-process scheduler: every step is idempotent and partition changes take a
    /// lock. Exits non-zero if any database failed or the counters drifted.
    Maintain {
        #[command(flatten)]
        config: ConfigArgs,
        /// Run as of this instant (RFC 3339) instead of now, e.g. to make the months of a
        /// planned import ahead of time.
        #[arg(long)]
        as_of: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Finish every order request left half done (placing, cancelling, shipping) now, give back
    /// stock held for orders no shard has a request for, then check the stock counters: what the in-process sweeper does every `sweep_every_secs`, run once
    /// by hand — after restoring databases to a moment, before traffic returns (README,
    /// "Restoring several databases to one moment"). Exits non-zero if the counters drifted.
    Sweep {
        #[command(flatten)]
        config: ConfigArgs,
        /// Only requests unfinished for longer than this (0: all of them; right after a restore
        /// nothing else is running, so nothing is racing the sweep).
        #[arg(long, default_value_t = 0)]
        grace_secs: u64,
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
        Command::Maintain { config, as_of } => {
            polygate_kit::telemetry::init();
            let (settings, data_dir) = load_settings(&config)?;
            let opened =
                polygate_commerce::open(&settings.resolved_store_settings(&data_dir).await?)
                    .await?;
            let as_of = as_of.unwrap_or_else(chrono::Utc::now);
            let report = run_pass(
                opened.store.as_ref(),
                opened.postgres.as_deref(),
                &settings.upkeep(),
                as_of,
            )
            .await?;
            for (database, partitions) in &report.partitions {
                match partitions {
                    Ok(r) => println!(
                        "database {database}: {} partitions created, {} detached ({} \
                         concurrently), {} blocked, {} rows in DEFAULT",
                        r.created.len(),
                        r.detached.len(),
                        r.detached_concurrently.len(),
                        r.blocked.len(),
                        r.default_rows
                    ),
                    Err(e) => println!("database {database}: FAILED: {e}"),
                }
            }
            println!(
                "archived {} order requests, {} reservations and {} payments; {} stock rows \
                 drifted",
                report.archived.requests,
                report.archived.reservations,
                report.archived.payments,
                report.drift_rows
            );
            anyhow::ensure!(
                report.ok(),
                "a database's partitions could not be maintained"
            );
            anyhow::ensure!(
                report.drift_rows == 0,
                "inventory.reserved disagrees with the held reservations"
            );
            Ok(())
        }
        Command::Sweep { config, grace_secs } => {
            polygate_kit::telemetry::init();
            let (settings, data_dir) = load_settings(&config)?;
            let opened =
                polygate_commerce::open(&settings.resolved_store_settings(&data_dir).await?)
                    .await?;
            let grace = Duration::from_secs(grace_secs);
            let mut total = SweepReport::default();
            // One sweep finishes at most a batch per database; go on until one finds nothing.
            // Bounded: a request the sweep cannot finish (it errs) stops the command instead.
            for _ in 0..10_000 {
                let r = sweep(opened.store.as_ref(), grace).await?;
                if r == SweepReport::default() {
                    break;
                }
                total.placed += r.placed;
                total.rejected += r.rejected;
                total.released += r.released;
                total.shipped += r.shipped;
            }
            println!(
                "finished {} placings ({} refused), {} releases, {} shipments",
                total.placed + total.rejected,
                total.rejected,
                total.released,
                total.shipped
            );
            // Stock held for orders whose request the shards do not have: the catalog came back
            // from a later moment than their shard. No buyer can see such an order; give the
            // stock back. Bounded like the sweep: each round releases what it found.
            let mut orphans = 0;
            for _ in 0..10_000 {
                let found = opened.store.stock_held_without_request(1_000).await?;
                if found.is_empty() {
                    break;
                }
                for order in &found {
                    opened.store.release_stock(*order).await?;
                    tracing::warn!(%order, "released stock held for an order its shard does not know");
                }
                orphans += found.len();
            }
            println!("released the stock of {orphans} orders their shards do not know");
            let drift = opened.store.inventory_drift().await?;
            println!("{} stock rows drifted", drift.len());
            anyhow::ensure!(
                drift.is_empty(),
                "inventory.reserved disagrees with the held reservations: {drift:?}"
            );
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

/// `[subgraphs.commerce]` and the data folder, as the gateway would read them.
fn load_settings(config: &ConfigArgs) -> anyhow::Result<(CommerceSettings, std::path::PathBuf)> {
    let loaded = standalone().load(config)?;
    let settings: &CommerceSettings = loaded
        .section
        .settings
        .get()
        .ok_or_else(|| anyhow::anyhow!("commerce settings expected"))?;
    Ok((settings.clone(), loaded.data_dir.clone()))
}

/// The Postgres router `[subgraphs.commerce]` names, for the commands that need one.
async fn open_postgres(
    config: &ConfigArgs,
) -> anyhow::Result<std::sync::Arc<polygate_commerce::PostgresStore>> {
    let (settings, data_dir) = load_settings(config)?;
    let opened =
        polygate_commerce::open(&settings.resolved_store_settings(&data_dir).await?).await?;
    opened
        .postgres
        .ok_or_else(|| anyhow::anyhow!("subgraphs.commerce.store must be a postgres:// URL here"))
}
