//! The subgraphs this gateway knows: the one list the rest of the gateway loops over.
//!
//! Adding a subgraph is one line here, its crate in `Cargo.toml` and a cargo feature of its name.
//! Order matters in one way: subgraphs open in this order, so a provider of capabilities comes
//! before its users (session provides the token verifier and the session issuer that commerce's
//! `login` takes at open).
//!
//! Non-obvious: every subgraph of the supergraph is listed whether or not this build links it.
//! One left out (built without its feature, e.g. the gateway-only build
//! `--no-default-features --features session`) is a [`not_linked`] entry: it keeps its
//! `[subgraphs.<name>]` section, which must give its `url` and may give nothing of its stores,
//! so a config written for the full build fails with the feature's name instead of an unknown
//! section.

use std::sync::Arc;

use polygate_kit::AnySubgraph;
#[allow(unused_imports)] // only used by the features that link a subgraph
use polygate_kit::subgraph::{entry, not_linked};

/// The entry of subgraph `$name`: its crate's `$subgraph` when the cargo feature `$name` links it,
/// else one that must run elsewhere.
macro_rules! subgraph {
    ($name:literal, $subgraph:path) => {{
        #[cfg(feature = $name)]
        let entry = entry::<$subgraph>();
        #[cfg(not(feature = $name))]
        let entry = not_linked($name, $name);
        entry
    }};
}

/// Every subgraph of the supergraph, in opening order; [`AnySubgraph::linked`] tells which this
/// build can run in-process.
pub fn subgraphs() -> Vec<Arc<dyn AnySubgraph>> {
    vec![
        subgraph!("session", polygate_session::Sessions),
        subgraph!("commerce", polygate_commerce::Commerce),
        subgraph!("org", polygate_org::Org),
        subgraph!("telemetry", polygate_telemetry::Telemetry),
        subgraph!("catalog", polygate_catalog::Catalog),
        subgraph!("search", polygate_search::Search),
    ]
}

#[cfg(test)]
mod tests {
    /// In any build, linked or not, the registry names exactly the subgraphs of the supergraph
    /// this binary carries (so a not-linked entry's name, which the macro takes from its feature,
    /// is the subgraph's).
    #[test]
    fn the_registry_lists_every_subgraph_of_the_built_in_supergraph() {
        let mut in_supergraph: Vec<&str> = crate::serve::BUILT_IN_SUPERGRAPH
            .split("@join__graph(name: \"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        let mut listed: Vec<&str> = super::subgraphs().iter().map(|s| s.name()).collect();
        in_supergraph.sort_unstable();
        listed.sort_unstable();
        assert_eq!(listed, in_supergraph);
    }
}
