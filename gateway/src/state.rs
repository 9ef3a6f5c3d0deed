//! What the gateway's plugins share: the in-process subgraphs, the token verifier, the probes.
//!
//! Hive Router builds plugins itself from its config (by name, with JSON settings), so live
//! objects such as store pools cannot be passed in through that config. They are built once
//! before the router starts and published here; plugins read them in `on_plugin_init`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use hive_router::executor::executors::common::SubgraphExecutorBoxedArc;
use polygate_kit::Probe;

use crate::admission::Gatekeeper;

pub struct GatewayState {
    /// Subgraphs executed in this process, by subgraph name.
    pub in_process: HashMap<String, SubgraphExecutorBoxedArc>,
    /// Turns bearer tokens into viewers and meters requests (the session store).
    pub gatekeeper: Arc<Gatekeeper>,
    /// Everything `/ready` checks.
    pub probes: Vec<Arc<dyn Probe>>,
    /// The multi-thread runtime that owns every store pool.
    pub runtime: tokio::runtime::Handle,
    pub graphiql: bool,
    /// The response cache, when `[cache] enabled`.
    pub cache: Option<Arc<crate::plugins::cache::ResponseCache>>,
}

static STATE: OnceLock<Arc<GatewayState>> = OnceLock::new();

/// Publishes the state; the first call wins (one router per process).
pub fn publish(state: GatewayState) -> Arc<GatewayState> {
    STATE.get_or_init(|| Arc::new(state)).clone()
}

/// The published state.
///
/// # Errors
/// When the router starts plugins before [`publish`] ran, which is a bug in `serve`.
pub fn get() -> Result<Arc<GatewayState>, &'static str> {
    STATE
        .get()
        .cloned()
        .ok_or("polygate plugins started before the gateway state was published")
}
