//! polygate: one GraphQL API over several databases, on Hive Router's federation engine.
//!
//! The binary is a thin CLI over these modules; tests use them directly.

pub mod admission;
pub mod config;
pub mod metrics;
pub mod plugins;
pub mod probe;
pub mod router_config;
pub mod schema_files;
pub mod seed;
pub mod serve;
pub mod state;
pub mod transport;
pub mod wiring;
