//! `polygate-commerce`: serves the commerce subgraph on its own, or prints its federation SDL.
//!
//! Sign-in needs the session store: the library only knows the `SessionIssuer` port, and this
//! binary plugs the session crate's store into it (`--session-store`), the same Redis the session
//! service and the gateway use. Without it, `login` answers `INTERNAL` "sign-in is served by the
//! gateway".

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use polygate_commerce::generator;
use polygate_commerce::store::postgres::MAP_REFRESH;
use polygate_commerce::store::postgres::shard_move::{move_shard, purge_moved_shard};
use polygate_commerce::{NAME, PasswordHasher, StoreSettings, seed_demo};
use polygate_kit::auth::SessionIssuer;
use polygate_kit::server::{router, serve};
use polygate_session::{SessionAuth, SessionPolicy};

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

/// Where the data lives; the same settings as `[subgraphs.commerce]` in polygate.toml.
#[derive(clap::Args)]
struct StoreArgs {
    /// sqlite://PATH, or the catalog database postgres://USER@HOST:PORT/DB
    #[arg(
        long,
        env = "POLYGATE_COMMERCE_STORE",
        default_value = "sqlite://./data/commerce.db"
    )]
    store: String,
    /// A streaming replica of --store, for reads that tolerate lag.
    #[arg(long, env = "POLYGATE_COMMERCE_REPLICA")]
    replica: Option<String>,
    /// A further shard database, NAME=postgres://…; repeat for more.
    #[arg(long = "shard-db", value_parser = name_and_url)]
    shard_dbs: Vec<(String, String)>,
    /// A replica of a shard database, NAME=postgres://…; repeat for more.
    #[arg(long = "shard-replica", value_parser = name_and_url)]
    shard_replicas: Vec<(String, String)>,
    /// The product cache: memory, redis://…, redis-cluster://… or off.
    #[arg(long, env = "POLYGATE_COMMERCE_CACHE", default_value = "memory")]
    cache: String,
}

impl StoreArgs {
    fn settings(&self) -> StoreSettings {
        StoreSettings {
            url: self.store.clone(),
            replica: self.replica.clone(),
            shards: self.shard_dbs.iter().cloned().collect::<BTreeMap<_, _>>(),
            shard_replicas: self.shard_replicas.iter().cloned().collect(),
            cache: self.cache.clone(),
        }
    }
}

fn name_and_url(raw: &str) -> Result<(String, String), String> {
    raw.split_once('=')
        .map(|(n, u)| (n.to_owned(), u.to_owned()))
        .ok_or_else(|| format!("expected NAME=URL, got {raw:?}"))
}

#[derive(Subcommand)]
enum Command {
    /// Serve /graphql, /health, /ready and /metrics.
    Serve {
        #[arg(
            long,
            env = "POLYGATE_COMMERCE_LISTEN",
            default_value = "127.0.0.1:4001"
        )]
        listen: SocketAddr,
        #[command(flatten)]
        store: StoreArgs,
        /// How often abandoned order requests are finished, and how old they must be.
        #[arg(long, env = "POLYGATE_COMMERCE_SWEEP_EVERY_SECS", default_value_t = 30)]
        sweep_every_secs: u64,
        /// `memory` (tokens this process alone knows: for trying it out) or `redis://host:port`,
        /// shared with the session service and the gateway.
        #[arg(long, env = "POLYGATE_SESSION_STORE")]
        session_store: Option<String>,
        /// Create the demo accounts (alice, bob, user001..user060) unless they exist.
        #[arg(long, env = "POLYGATE_COMMERCE_SEED_DEMO")]
        seed_demo: bool,
    },
    /// Print the federation SDL.
    Schema,
    /// Load a deterministic bench dataset into a Postgres store (see `generator.rs`): users
    /// bench-<n>@example.com (password `polygate-bench`), products BENCH-<n>, and orders over
    /// the twelve months before --until. Refuses a store that already holds bench rows.
    Generate {
        #[command(flatten)]
        store: StoreArgs,
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
    /// Move one logical shard (0..256) to the shard database NAME: fence, copy, switch the map.
    MoveShard {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        shard: u16,
        /// The target database: a --shard-db NAME, or `main`.
        #[arg(long)]
        to: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Schema => {
            print!("{}", polygate_commerce::sdl());
            Ok(())
        }
        Command::Generate {
            store,
            users,
            orders,
            products,
            seed,
            until,
        } => {
            polygate_kit::telemetry::init();
            let opened = polygate_commerce::open(&store.settings()).await?;
            let router = opened
                .postgres
                .ok_or_else(|| anyhow::anyhow!("generate needs a postgres:// store"))?;
            let spec = generator::Spec {
                users,
                orders,
                products,
                seed,
                until: until.map_or_else(generator::Spec::today, |day| {
                    day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
                }),
            };
            let report = generator::generate(&router, &spec, &PasswordHasher::default()).await?;
            println!("{report}");
            Ok(())
        }
        Command::MoveShard { store, shard, to } => {
            polygate_kit::telemetry::init();
            let opened = polygate_commerce::open(&store.settings()).await?;
            let router = opened
                .postgres
                .ok_or_else(|| anyhow::anyhow!("shards exist only on a postgres:// store"))?;
            let report = move_shard(&router, shard, &to).await?;
            println!("moved: {report:?}");
            // Every router re-reads the map within MAP_REFRESH; only then is the old copy unread.
            tokio::time::sleep(MAP_REFRESH * 2 + Duration::from_secs(1)).await;
            let purged = purge_moved_shard(&router, shard).await?;
            println!("purged the old copy: {purged:?}");
            Ok(())
        }
        Command::Serve {
            listen,
            store,
            sweep_every_secs,
            session_store,
            seed_demo: seed,
        } => {
            polygate_kit::telemetry::init();
            let opened = polygate_commerce::open(&store.settings()).await?;
            polygate_commerce::spawn_background(
                &opened,
                Duration::from_secs(sweep_every_secs.max(1)),
            );
            let store = opened.store;
            let hasher = PasswordHasher::default();
            if seed {
                let report = seed_demo(store.as_ref(), &hasher).await?;
                tracing::info!(
                    skipped = report.skipped,
                    created = report.created.len(),
                    "demo seed"
                );
            }
            let probe = polygate_commerce::probe(store.clone());
            let issuer = match session_store {
                Some(url) => {
                    let sessions =
                        polygate_session::connect(&url, SessionPolicy::default()).await?;
                    Some(Arc::new(SessionAuth(sessions)) as Arc<dyn SessionIssuer>)
                }
                None => None,
            };
            let schema = polygate_commerce::schema(store, issuer, hasher);
            serve(router(Arc::new(schema), vec![probe]), listen, NAME).await?;
            Ok(())
        }
    }
}
