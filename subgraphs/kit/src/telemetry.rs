//! Tracing set-up shared by the gateway and the subgraph binaries.

use tracing_subscriber::{EnvFilter, fmt};

/// Logs to stderr: JSON when `POLYGATE_LOG_FORMAT=json` (production), human-readable otherwise.
/// The level comes from `RUST_LOG` (default `info`). Safe to call twice (tests).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("POLYGATE_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
