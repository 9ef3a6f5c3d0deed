//! `polygate-commerce`: serves the commerce subgraph on its own, or prints its federation SDL.
//!
//! Sign-in needs the session store: the library only knows the `SessionIssuer` port, and this
//! binary plugs the session crate's store into it (`--session-store`), the same Redis the session
//! service and the gateway use. Without it, `login` answers `INTERNAL` "sign-in is served by the
//! gateway".

use std::net::SocketAddr;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use polygate_commerce::{NAME, PasswordHasher, seed_demo};
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
        /// sqlite://PATH or postgres://USER@HOST:PORT/DB
        #[arg(
            long,
            env = "POLYGATE_COMMERCE_STORE",
            default_value = "sqlite://./data/commerce.db"
        )]
        store: String,
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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Schema => {
            print!("{}", polygate_commerce::sdl());
            Ok(())
        }
        Command::Serve {
            listen,
            store,
            session_store,
            seed_demo: seed,
        } => {
            polygate_kit::telemetry::init();
            let store = polygate_commerce::connect(&store).await?;
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
            serve(router(schema, vec![probe]), listen, NAME).await?;
            Ok(())
        }
    }
}
