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

/// The allocator a standalone subgraph binary runs on: mimalloc, as the gateway does (through
/// Hive Router). Put `polygate_kit::use_mimalloc!();` at the top of the binary's `main.rs`.
/// Why: a telemetry series answer of 1 000 hosts spent about 30 % of its time in glibc's
/// malloc and free (profiled; `subgraphs/telemetry/README.md`).
#[macro_export]
macro_rules! use_mimalloc {
    () => {
        #[global_allocator]
        static GLOBAL: $crate::MiMalloc = $crate::MiMalloc;
    };
}

#[doc(hidden)]
pub use mimalloc::MiMalloc;
