//! Shared plumbing for every polygate subgraph: the error codes clients see, the identity the
//! gateway passes down, the axum bootstrap that serves a subgraph on its own, batched store reads,
//! metrics and tracing.
//!
//! Nothing here knows about a particular store or subgraph; subgraphs depend on the kit, never the
//! other way round.

pub mod auth;
pub mod batch;
pub mod capabilities;
pub mod config;
pub mod error;
pub mod feeds;
pub mod local_bucket;
pub mod metrics;
pub mod probe;
pub mod redis;
pub mod remote_capabilities;
pub mod secret;
pub mod server;
pub mod standalone;
pub mod subgraph;
pub mod telemetry;
pub mod testing;
pub mod tls;

pub use auth::Viewer;
pub use capabilities::{Capabilities, CapabilityId};
pub use error::{ErrorCode, api_error};
pub use probe::Probe;
pub use subgraph::{
    AnySubgraph, BackgroundTask, DemoSeed, OpenContext, OpenError, Opened, Placement, SeedReport,
    SettingsError, Subgraph, SubgraphSchema,
};

/// How every subgraph exports its SDL: Federation v2 with `@composeDirective`, so the composed
/// supergraph and the committed `schema/<name>.graphql` files agree byte for byte.
pub fn sdl_options() -> async_graphql::SDLExportOptions {
    async_graphql::SDLExportOptions::new()
        .federation()
        .compose_directive()
}
