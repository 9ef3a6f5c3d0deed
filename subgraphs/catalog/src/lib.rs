//! The catalog subgraph: flexible product content (descriptions, nested variants, free-form
//! attributes, media, reviews) on MongoDB in the cloud and SQLite embedded, cached in Redis or
//! in memory, extending commerce's `Product` by `sku`.

pub mod clock;
pub mod domain;
pub mod metrics;
pub mod store;

/// The subgraph's name in metrics, logs and the supergraph.
pub const NAME: &str = "catalog";
