//! Our behaviour, added to Hive Router through its plugin hooks (never a fork of the engine).
//! Registration order is execution order: endpoints, auth, transport, then error codes.

pub mod auth;
pub mod endpoints;
pub mod errors;
pub mod transport;

use hive_router::PluginRegistry;

pub fn registry() -> PluginRegistry {
    PluginRegistry::new()
        .register::<endpoints::EndpointsPlugin>()
        .register::<auth::AuthPlugin>()
        .register::<transport::TransportPlugin>()
        .register::<errors::ErrorsPlugin>()
}

/// The plugin names as the router config lists them.
pub const NAMES: [&str; 4] = [
    endpoints::EndpointsPlugin::NAME,
    auth::AuthPlugin::NAME,
    transport::TransportPlugin::NAME,
    errors::ErrorsPlugin::NAME,
];
