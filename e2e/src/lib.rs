//! Harness for end-to-end tests: starts the real `polygate`, `polygate-commerce` and
//! `polygate-session` binaries on free loopback ports, talks to them over HTTP, and stops them.
//!
//! The binaries come from the same target folder as the test executable (`e2e/run-tests` builds
//! them first), so the tests exercise exactly what ships.

pub mod gateway;
pub mod graphql;
pub mod metrics;
pub mod process;
pub mod proxy;

pub use graphql::Client;
pub use process::{Service, free_port, repo_root, run_to_exit};
