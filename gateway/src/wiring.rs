//! Builds the subgraphs this process runs from the config: connects each store (embedded or
//! cloud), builds each schema, and collects what `/ready` must check.
//!
//! The session store is connected even when the session subgraph runs elsewhere: the gateway
//! checks tokens in it and commerce's `login` issues them through it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hive_router::executor::executors::common::{SubgraphExecutor, SubgraphExecutorBoxedArc};
use polygate_commerce::CommerceStore;
use polygate_kit::Probe;
use polygate_kit::auth::TokenVerifier;
use polygate_session::{SessionAuth, SessionPolicy, SessionStore};

use crate::admission::validation_cache::{
    CachingVerifier, EvictingStore, MAX_ENTRIES, ValidationCache,
};
use crate::admission::{Bucket, Gatekeeper, RateLimits};
use crate::config::{Config, EMBEDDED, redact};
use crate::probe::RemoteSubgraphProbe;
use crate::state::GatewayState;
use crate::transport::in_process::{InProcessExecutor, InProcessSchema};

/// The stores one gateway process holds.
pub struct Stores {
    /// `None` when the commerce subgraph runs as its own service.
    pub commerce: Option<Arc<dyn CommerceStore>>,
    pub session: Arc<dyn SessionStore>,
}

pub fn commerce_store_url(config: &Config) -> String {
    let store = &config.subgraphs.commerce.store;
    if store == EMBEDDED {
        let path = config.server.data_dir.join("commerce.db");
        format!("sqlite://{}", path.display())
    } else {
        store.clone()
    }
}

/// The commerce store settings `[subgraphs.commerce]` describes.
pub fn commerce_settings(config: &Config) -> polygate_commerce::StoreSettings {
    let c = &config.subgraphs.commerce;
    polygate_commerce::StoreSettings {
        url: commerce_store_url(config),
        replica: c.replica.clone(),
        shards: c.shards.clone(),
        shard_replicas: c.shard_replicas.clone(),
        cache: if c.cache == EMBEDDED {
            "memory".to_owned()
        } else {
            c.cache.clone()
        },
    }
}

pub fn session_store_url(config: &Config) -> String {
    let store = &config.subgraphs.session.store;
    if store == EMBEDDED {
        "memory".to_owned()
    } else {
        store.clone()
    }
}

/// How long a validated token is trusted without asking the store: `validation_cache_ms`, at
/// most half the idle timeout (a cached verdict does not touch the session, so a session in use
/// must be refreshed well before it could idle out); `None` when the cache is off.
pub fn validation_cache_ttl(config: &Config) -> Option<Duration> {
    let s = &config.subgraphs.session;
    let ttl = Duration::from_millis(s.validation_cache_ms)
        .min(Duration::from_secs(s.idle_timeout_secs) / 2);
    (!ttl.is_zero()).then_some(ttl)
}

pub fn session_policy(config: &Config) -> SessionPolicy {
    let s = &config.subgraphs.session;
    SessionPolicy {
        idle_timeout: Duration::from_secs(s.idle_timeout_secs),
        absolute_lifetime: Duration::from_secs(s.absolute_lifetime_secs),
    }
}

/// Connects every store; an unreachable one fails here with the key that names it.
pub async fn connect(config: &Config) -> anyhow::Result<Stores> {
    let commerce = match config.subgraphs.commerce.url {
        Some(_) => None,
        None => {
            if config.subgraphs.commerce.store == EMBEDDED {
                ensure_dir(&config.server.data_dir)?;
            }
            let settings = commerce_settings(config);
            let opened = polygate_commerce::open(&settings).await.with_context(|| {
                format!(
                    "subgraphs.commerce.store: cannot open `{}`",
                    redact(&settings.url)
                )
            })?;
            let sweep_every = Duration::from_secs(config.subgraphs.commerce.sweep_every_secs);
            polygate_commerce::spawn_background(&opened, sweep_every);
            Some(opened.store)
        }
    };
    let session_url = session_store_url(config);
    let session = polygate_session::connect(&session_url, session_policy(config))
        .await
        .with_context(|| {
            format!(
                "subgraphs.session.store: cannot open `{}`",
                redact(&session_url)
            )
        })?;
    Ok(Stores { commerce, session })
}

fn ensure_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("server.data_dir: cannot create `{}`", dir.display()))
}

/// The gateway's shared state for this config and these stores.
pub fn gateway_state(
    config: &Config,
    stores: &Stores,
    runtime: tokio::runtime::Handle,
) -> GatewayState {
    // With the validation cache on, every revocation this process serves (commerce's `logout`,
    // `revokeSession`, `revokeAllSessions`) goes through a store that evicts what it revokes.
    let cache =
        validation_cache_ttl(config).map(|ttl| Arc::new(ValidationCache::new(ttl, MAX_ENTRIES)));
    let session_store: Arc<dyn SessionStore> = match &cache {
        Some(cache) => Arc::new(EvictingStore::new(stores.session.clone(), cache.clone())),
        None => stores.session.clone(),
    };
    let auth = Arc::new(SessionAuth(session_store.clone()));
    let verifier: Arc<dyn TokenVerifier> = match cache {
        Some(cache) => Arc::new(CachingVerifier::new(auth.clone(), cache)),
        None => auth.clone(),
    };
    let mut in_process: HashMap<String, SubgraphExecutorBoxedArc> = HashMap::new();
    let mut probes: Vec<Arc<dyn Probe>> = Vec::new();

    match (&stores.commerce, &config.subgraphs.commerce.url) {
        (Some(store), _) => {
            let schema = polygate_commerce::schema(
                store.clone(),
                Some(auth.clone()),
                polygate_commerce::PasswordHasher::default(),
            );
            in_process.insert(
                polygate_commerce::NAME.to_owned(),
                executor(polygate_commerce::NAME, Arc::new(schema), &runtime),
            );
            probes.push(polygate_commerce::probe(store.clone()));
        }
        (None, Some(url)) => probes.push(Arc::new(RemoteSubgraphProbe::new(
            polygate_commerce::NAME,
            url,
        ))),
        (None, None) => unreachable!("connect opens the commerce store when it has no URL"),
    }

    let session = &config.subgraphs.session;
    match &session.url {
        None => {
            let schema = polygate_session::schema(session_store.clone());
            in_process.insert(
                polygate_session::NAME.to_owned(),
                executor(polygate_session::NAME, Arc::new(schema), &runtime),
            );
        }
        Some(url) => probes.push(Arc::new(RemoteSubgraphProbe::new(
            polygate_session::NAME,
            url,
        ))),
    }
    // The gateway itself reads the session store to check tokens, wherever the subgraph runs.
    probes.push(polygate_session::probe(stores.session.clone()));

    let limits = &config.limits;
    let gatekeeper = Gatekeeper {
        verifier,
        limiter: auth,
        limits: RateLimits {
            per_client: Bucket::new(limits.client_requests_per_sec, limits.client_burst),
            per_session: Bucket::new(limits.session_requests_per_sec, limits.session_burst),
        },
    };
    GatewayState {
        in_process,
        gatekeeper: Arc::new(gatekeeper),
        probes,
        runtime,
        graphiql: config.server.graphiql,
    }
}

fn executor(
    name: &str,
    schema: Arc<dyn InProcessSchema>,
    runtime: &tokio::runtime::Handle,
) -> SubgraphExecutorBoxedArc {
    InProcessExecutor::new(name, schema, runtime.clone()).to_boxed_arc()
}
