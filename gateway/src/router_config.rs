//! Translates our config into Hive Router's, which the engine reads from a file it is pointed at.
//!
//! Only keys we set are written; the engine's own defaults stand for the rest. Remote subgraphs
//! get their URL through `override_subgraph_urls`; in-process ones keep the supergraph's URL,
//! which is never dialled because the transport plugin swaps their executor.

use std::path::Path;

use serde_json::{Value, json};

use crate::config::Config;
use crate::plugins;

pub fn render(config: &Config, supergraph: &Path) -> Value {
    let server = &config.server;
    let limits = &config.limits;
    let mut overrides = serde_json::Map::new();
    // Our subgraphs word their errors for clients (internal details are logged, never
    // returned), so their messages pass; a foreign subgraph's stay masked by default.
    let mut unmasked = serde_json::Map::new();
    for subgraph in &config.subgraphs {
        if let Some(url) = &subgraph.section.url {
            overrides.insert(subgraph.name().to_owned(), json!({ "url": url }));
        }
        unmasked.insert(subgraph.name().to_owned(), json!({ "enabled": false }));
    }
    let plugins = json!({ (plugins::PolygatePlugin::NAME): { "enabled": true } });
    let mut http = json!({
        "host": server.listen.ip().to_string(),
        "port": server.listen.port(),
        "graphql_endpoint": "/graphql",
    });
    if server.workers > 0 {
        http["workers"] = json!(server.workers);
    }
    let log_format = if std::env::var("POLYGATE_LOG_FORMAT").is_ok_and(|v| v == "json") {
        "json"
    } else {
        "text"
    };
    json!({
        "log": { "format": log_format, "level": log_level() },
        "supergraph": { "source": "file", "path": supergraph.display().to_string() },
        "http": http,
        "laboratory": { "enabled": server.graphiql },
        "introspection": server.introspection,
        "limits": {
            "max_depth": { "n": limits.max_depth },
            "max_aliases": { "n": limits.max_aliases },
            "max_request_body_size": format!("{} B", limits.max_body_bytes),
        },
        "traffic_shaping": {
            "all": { "request_timeout": format!("{}ms", limits.subgraph_timeout_ms) },
            "router": { "request_timeout": format!("{}ms", limits.request_timeout_ms) },
        },
        "override_subgraph_urls": { "subgraphs": overrides },
        "error_masking": { "subgraphs": unmasked },
        "plugins": plugins,
    })
}

/// The engine's log level: `RUST_LOG` when it is a plain level, `info` otherwise.
fn log_level() -> &'static str {
    let wanted = std::env::var("RUST_LOG").unwrap_or_default();
    ["error", "warn", "info", "debug", "trace"]
        .into_iter()
        .find(|level| wanted.eq_ignore_ascii_case(level))
        .unwrap_or("info")
}
