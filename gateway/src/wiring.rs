//! Opens every subgraph the config names, in registry order, and assembles what the gateway's
//! plugins share: in-process executors, readiness probes and the sign-in gatekeeper.
//!
//! A subgraph with a `url` runs elsewhere and is only probed, unless it provides a capability
//! this process needs, in which case its stores are opened too: the gateway itself needs the
//! token verifier and rate limiter (the session store), and each in-process subgraph what it
//! declares it needs (an in-process search needs catalog's feed). Non-obvious: deciding by
//! declared consumers, not by a fixed flag per provider, is what lets a gateway whose search runs
//! elsewhere (or is not linked) leave a remote catalog's MongoDB alone. A remote subgraph that is
//! opened shares its store with its service, so an embedded one is refused at start-up.
//! Nothing here names a subgraph: sign-in uses whatever provides the kit's token verifier and
//! rate limiter, and a gateway whose subgraphs provide neither (a build without the `session`
//! feature) serves every request anonymously.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hive_router::executor::executors::common::{SubgraphExecutor, SubgraphExecutorBoxedArc};
use polygate_kit::auth::{RateLimiter, RateVerdict, SessionStoreUnavailable, TokenVerifier};
use polygate_kit::standalone::prepare_data_dir;
use polygate_kit::subgraph::describe_open_failure;
use polygate_kit::{
    BackgroundTask, Capabilities, CapabilityId, OpenContext, Opened, Placement, Probe, Viewer,
};

use crate::admission::client_meter::{self, ClientMeter};
use crate::admission::{Bucket, Gatekeeper, RateLimits};
use crate::config::Config;
use crate::probe::RemoteSubgraphProbe;
use crate::state::GatewayState;
use crate::transport::in_process::InProcessExecutor;

/// The subgraphs of one gateway process, opened.
pub struct OpenedGraph {
    /// In registry order; `opened` is `None` for a remote subgraph the gateway does not open.
    pub subgraphs: Vec<OpenedSubgraph>,
    pub capabilities: Capabilities,
}

pub struct OpenedSubgraph {
    pub name: &'static str,
    /// Set when the subgraph runs as its own service.
    pub url: Option<String>,
    /// Its store is the embedded one (demo data is seeded there on start).
    pub embedded: bool,
    pub opened: Option<Opened>,
}

/// What the gateway itself takes from its subgraphs: sign-in's token verifier and rate limiter.
pub fn gateway_needs() -> Vec<CapabilityId> {
    vec![
        CapabilityId::of::<dyn TokenVerifier>(),
        CapabilityId::of::<dyn RateLimiter>(),
    ]
}

/// For each subgraph of `config` that runs elsewhere, the capability this process needs from its
/// stores and who needs it (`None`: it is not opened).
fn needed_from_remote(config: &Config) -> Vec<Option<(CapabilityId, &'static str)>> {
    let mut needed: Vec<(CapabilityId, &'static str)> = gateway_needs()
        .into_iter()
        .map(|capability| (capability, "the gateway"))
        .collect();
    for subgraph in config.subgraphs.iter().filter(|s| s.in_process()) {
        needed.extend(
            subgraph
                .subgraph
                .needs()
                .into_iter()
                .map(|c| (c, subgraph.name())),
        );
    }
    config
        .subgraphs
        .iter()
        .map(|subgraph| {
            let provides = subgraph.subgraph.provides();
            needed
                .iter()
                .find(|(capability, _)| !subgraph.in_process() && provides.contains(capability))
                .copied()
        })
        .collect()
}

/// Opens every subgraph; an unreachable store fails here with the key that names it.
pub async fn open(config: &Config) -> anyhow::Result<OpenedGraph> {
    let capabilities = Capabilities::default();
    let mut subgraphs = Vec::with_capacity(config.subgraphs.len());
    let needed_from_remote = needed_from_remote(config);
    // Before anything opens: a remote subgraph opened here shares its store with its service.
    for (configured, needed) in config.subgraphs.iter().zip(&needed_from_remote) {
        if let Some((capability, consumer)) = needed
            && configured.section.settings.embedded()
        {
            let name = configured.name();
            anyhow::bail!(
                "subgraphs.{name}.store: must be the store the {name} service uses, not \
                 `embedded`: subgraphs.{name}.url is set, and {consumer} in this process uses \
                 its {} from that store",
                capability.name
            );
        }
    }
    for (configured, needed) in config.subgraphs.iter().zip(needed_from_remote) {
        let section = &configured.section;
        let placement = match section.url {
            None => Placement::InProcess,
            Some(_) => Placement::Remote,
        };
        let opens = placement == Placement::InProcess || needed.is_some();
        let opened = if opens {
            prepare_data_dir(&config.server.data_dir, section.settings.embedded())?;
            let context = OpenContext {
                data_dir: config.server.data_dir.clone(),
                placement,
                capabilities: capabilities.clone(),
            };
            let opened = configured
                .subgraph
                .open(&section.settings, context)
                .await
                .map_err(|e| anyhow::anyhow!(describe_open_failure(configured.name(), &e)))?;
            Some(opened)
        } else {
            None
        };
        subgraphs.push(OpenedSubgraph {
            name: configured.name(),
            url: section.url.clone(),
            embedded: section.settings.embedded(),
            opened,
        });
    }
    Ok(OpenedGraph {
        subgraphs,
        capabilities,
    })
}

impl OpenedGraph {
    /// Takes every subgraph's background tasks, to spawn once.
    pub fn take_tasks(&mut self) -> Vec<BackgroundTask> {
        self.subgraphs
            .iter_mut()
            .filter_map(|s| s.opened.as_mut())
            .flat_map(|opened| std::mem::take(&mut opened.tasks))
            .collect()
    }
}

/// The gateway's shared state for this config and these subgraphs.
pub fn gateway_state(
    config: &Config,
    graph: &OpenedGraph,
    runtime: tokio::runtime::Handle,
) -> GatewayState {
    let mut in_process: HashMap<String, SubgraphExecutorBoxedArc> = HashMap::new();
    let mut probes: Vec<Arc<dyn Probe>> = Vec::new();
    for subgraph in &graph.subgraphs {
        if let Some(opened) = &subgraph.opened {
            // A remote subgraph opened for its capabilities: the gateway uses its stores directly.
            probes.extend(opened.probes.iter().cloned());
        }
        match (
            &subgraph.url,
            subgraph.opened.as_ref().and_then(|o| o.schema.clone()),
        ) {
            (Some(url), _) => probes.push(Arc::new(RemoteSubgraphProbe::new(subgraph.name, url))),
            (None, Some(schema)) => {
                let executor = InProcessExecutor::new(subgraph.name, schema, runtime.clone());
                in_process.insert(subgraph.name.to_owned(), executor.to_boxed_arc());
            }
            (None, None) => tracing::error!(
                subgraph = subgraph.name,
                "opened in-process without a schema; its fields will fail"
            ),
        }
    }
    let limits = &config.limits;
    let gatekeeper = Gatekeeper {
        verifier: graph
            .capabilities
            .get::<dyn TokenVerifier>()
            .unwrap_or_else(|| Arc::new(NoSignIn)),
        limiter: graph
            .capabilities
            .get::<dyn RateLimiter>()
            .unwrap_or_else(|| Arc::new(NoSignIn)),
        limits: RateLimits {
            per_client: Bucket::new(limits.client_requests_per_sec, limits.client_burst),
            per_session: Bucket::new(limits.session_requests_per_sec, limits.session_burst),
        },
        client_meter: ClientMeter::new(
            Duration::from_millis(limits.client_meter_ms),
            client_meter::MAX_ENTRIES,
        ),
    };
    let cache = config.cache.enabled.then(|| {
        let clock = Arc::new(crate::plugins::cache::clock::MonotonicClock::default());
        match crate::plugins::cache::ResponseCache::new(config.cache.clone(), clock, &runtime) {
            Ok(cache) => Some(Arc::new(cache)),
            Err(e) => {
                tracing::error!(error = %e, "response cache off");
                None
            }
        }
    });
    GatewayState {
        cache: cache.flatten(),
        in_process,
        gatekeeper: Arc::new(gatekeeper),
        probes,
        runtime,
        graphiql: config.server.graphiql,
    }
}

/// Sign-in and rate limits when no subgraph provides them: every token is unknown and every
/// bucket has room.
struct NoSignIn;

#[async_trait]
impl TokenVerifier for NoSignIn {
    async fn verify(&self, _token: &str) -> Result<Option<Viewer>, SessionStoreUnavailable> {
        Ok(None)
    }

    async fn verify_metered(
        &self,
        _token: &str,
        _capacity: u32,
        _per_sec: f64,
        _cost: u32,
    ) -> Result<Option<(Viewer, RateVerdict)>, SessionStoreUnavailable> {
        Ok(None)
    }
}

#[async_trait]
impl RateLimiter for NoSignIn {
    async fn take(
        &self,
        _key: &str,
        capacity: u32,
        _per_sec: f64,
        _cost: u32,
    ) -> Result<RateVerdict, SessionStoreUnavailable> {
        Ok(RateVerdict {
            allowed: true,
            retry_after_ms: 0,
            remaining: capacity,
        })
    }
}

// Which remote subgraphs are opened depends on who consumes their capabilities: the registry of
// the full build has both sides (session and the gateway, catalog and search).
#[cfg(all(test, feature = "session", feature = "catalog", feature = "search"))]
mod tests {
    use super::*;

    fn config(env: &[(&str, &str)]) -> Config {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_sources("test", "", &env, &crate::registry::subgraphs()).unwrap()
    }

    fn opened_remote(config: &Config) -> Vec<&'static str> {
        config
            .subgraphs
            .iter()
            .zip(needed_from_remote(config))
            .filter(|(_, needed)| needed.is_some())
            .map(|(s, _)| s.name())
            .collect()
    }

    const REDIS_SESSION: [(&str, &str); 2] = [
        (
            "POLYGATE_SUBGRAPHS__SESSION__URL",
            "http://10.0.0.2:4002/graphql",
        ),
        (
            "POLYGATE_SUBGRAPHS__SESSION__STORE",
            "redis://10.0.0.3:6379",
        ),
    ];
    const CATALOG_URL: (&str, &str) = (
        "POLYGATE_SUBGRAPHS__CATALOG__URL",
        "http://10.0.0.4:4004/graphql",
    );
    const SEARCH_URL: (&str, &str) = (
        "POLYGATE_SUBGRAPHS__SEARCH__URL",
        "http://10.0.0.6:4006/graphql",
    );

    #[test]
    fn a_remote_session_is_opened_for_the_gateway_s_sign_in() {
        assert_eq!(opened_remote(&config(&REDIS_SESSION)), ["session"]);
    }

    #[test]
    fn a_remote_catalog_is_opened_only_when_search_runs_in_process() {
        let mut env = REDIS_SESSION.to_vec();
        env.push(CATALOG_URL);
        assert_eq!(opened_remote(&config(&env)), ["session", "catalog"]);
        env.push(SEARCH_URL);
        assert_eq!(opened_remote(&config(&env)), ["session"]);
    }

    #[tokio::test]
    async fn a_remote_catalog_opened_for_search_must_not_be_embedded() {
        let err = open(&config(&[CATALOG_URL]))
            .await
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains("subgraphs.catalog.store"), "{err}");
        assert!(err.contains("search"), "{err}");
    }
}
