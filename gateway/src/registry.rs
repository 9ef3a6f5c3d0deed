//! The subgraphs this gateway links: the one list the rest of the gateway loops over.
//!
//! Adding a subgraph is one line here (and its crate in `Cargo.toml`). Order matters in one way:
//! subgraphs open in this order, so a provider of capabilities comes before its users (session
//! provides the token verifier and the session issuer that commerce's `login` takes at open).

use std::sync::Arc;

use polygate_kit::AnySubgraph;
use polygate_kit::subgraph::entry;

/// Every subgraph this gateway can run in-process, in opening order.
pub fn subgraphs() -> Vec<Arc<dyn AnySubgraph>> {
    vec![
        entry::<polygate_session::Sessions>(),
        entry::<polygate_commerce::Commerce>(),
        entry::<polygate_org::Org>(),
        entry::<polygate_telemetry::Telemetry>(),
        entry::<polygate_catalog::Catalog>(),
        entry::<polygate_search::Search>(),
    ]
}
