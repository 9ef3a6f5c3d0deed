//! `polygate-session`: serves the session subgraph on its own, or prints its federation SDL.
//!
//! Printing the SDL needs no Redis: `polygate_session::sdl` builds the schema over memory.

use std::net::SocketAddr;

use clap::{Parser, Subcommand};
use polygate_kit::server;
use polygate_session::SessionPolicy;

#[derive(Parser)]
#[command(name = "polygate-session", about = "The polygate session subgraph")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve `/graphql`, `/health`, `/ready` and `/metrics`.
    Serve {
        #[arg(
            long,
            env = "POLYGATE_SESSION_LISTEN",
            default_value = "127.0.0.1:4002"
        )]
        listen: SocketAddr,
        /// `memory`, `redis://host:port` or `redis-cluster://host:port,host:port,…`.
        #[arg(long, env = "POLYGATE_SESSION_STORE", default_value = "memory")]
        store: String,
    },
    /// Print the subgraph's federation SDL.
    Schema,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve { listen, store } => {
            polygate_kit::telemetry::init();
            let store = polygate_session::connect(&store, SessionPolicy::default()).await?;
            let probe = polygate_session::probe(store.clone());
            let app = server::router(
                std::sync::Arc::new(polygate_session::schema(store)),
                vec![probe],
            );
            server::serve(app, listen, polygate_session::NAME).await?;
        }
        Command::Schema => print!("{}", polygate_session::sdl()),
    }
    Ok(())
}
