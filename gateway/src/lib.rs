//! polygate: one GraphQL API over several databases, on Hive Router's federation engine.
//!
//! The binary is a thin CLI over these modules; tests use them directly.

// ntex composes its HTTP service types deeply; the optimised build needs the same limit as
// Hive Router's own binary.
#![recursion_limit = "256"]

pub mod admission;
pub mod config;
pub mod metrics;
pub mod operations;
pub mod plugins;
pub mod probe;
pub mod registry;
pub mod router_config;
pub mod schema_files;
pub mod seed;
pub mod serve;
pub mod state;
pub mod transport;
pub mod wiring;
