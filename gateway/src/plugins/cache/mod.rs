//! The gateway's response cache, as part of our plugin.
//!
//! A query is looked up after the engine has parsed, validated and planned it (`on_execute`,
//! where the normalised operation and coerced variables exist), and answered from the cache
//! without touching a subgraph on a hit; a byte-identical repeat of a request answered that way
//! is answered before the engine even decodes it (`early.rs`). On a miss, the finished HTTP
//! response is stored when it is a 200 with `data` and no `errors`. A mutation's response is walked for the entities it
//! returns, and those (plus the types the config says it changes) are invalidated before the
//! client sees the response, so the client's next read is fresh.
//!
//! The one non-obvious decision: storing happens at the HTTP layer, not in `on_execute`'s end,
//! because the engine projects the response (drops fields it fetched only for joins) after the
//! execute hooks; the bytes the client receives are the bytes we keep.

pub mod apq;
pub mod clock;
pub mod config;
pub mod debug;
pub mod early;
pub mod entity;
mod finish;
pub mod key;
pub mod l2;
mod lookup;
pub mod metrics;
pub mod policy;
pub mod prepared;
mod response;
pub mod root_fields;
pub mod schema;
pub mod store;
pub mod tags;

use std::sync::{Arc, RwLock};

use hive_router::executor::plugin_context::PluginContext;
use hive_router::graphql_tools::static_graphql::schema::Document;
use hive_router::query_planner::ast::operation::OperationDefinition;

use self::clock::Clock;
use self::config::{CacheConfig, Scope};
use self::debug::{DebugRequested, Summary};
use self::l2::SharedStore;
use self::policy::{OperationPolicy, Policies};
use self::store::ResponseStore;

/// Response header naming what the cache did: `hit`, `miss` (stored) or absent (not cacheable).
pub const CACHE_STATUS_HEADER: &str = "x-polygate-cache";

pub struct ResponseCache {
    config: CacheConfig,
    /// Rebuilt on every supergraph (re)load; `None` until the first.
    policies: RwLock<Option<Arc<Policies>>>,
    store: Arc<ResponseStore>,
    /// Set when `redis_url` is.
    shared: Option<SharedStore>,
    /// Set when `entities` is: the entity level's own L1 and the plans of fetch selections.
    entities: Option<EntityLevel>,
}

struct EntityLevel {
    store: Arc<ResponseStore>,
    plans: entity::PlanMemo,
    root_plans: root_fields::PlanMemo,
}

/// What this request asked of the cache, kept in its context between hooks.
enum Work {
    /// A miss: store the response under `key` when it is clean.
    Store {
        key: [u8; 32],
        seq: u64,
        /// The L2 sequence read before the query ran, when there is an L2.
        shared_seq: Option<u64>,
        policy: Arc<OperationPolicy>,
        operation: Box<OperationDefinition>,
        policies: Arc<Policies>,
    },
    /// Served from the cache, from the entry under `key`.
    Served {
        key: [u8; 32],
        max_age_secs: u64,
        scope: Scope,
        etag: String,
    },
    /// A mutation: invalidate what its response shows it changed.
    Invalidate {
        operation: Box<OperationDefinition>,
        policies: Arc<Policies>,
    },
}

/// The work left for `after_response`, and the debug summary when one was asked for.
struct Pending {
    work: Option<Work>,
    summary: Option<Summary>,
}

/// Notes the summary in the context when the request asked for one.
fn note_summary(context: &PluginContext, summary: impl FnOnce() -> Summary) {
    if context.get_ref::<DebugRequested>().is_some() {
        match context.get_mut::<Pending>() {
            Some(mut pending) => pending.summary = Some(summary()),
            None => {
                context.insert(Pending {
                    work: None,
                    summary: Some(summary()),
                });
            }
        }
    }
}

fn pending(work: Work, summary: Option<Summary>) -> Pending {
    Pending {
        work: Some(work),
        summary,
    }
}

/// What the HTTP layer knows of the request, for conditional GETs.
pub struct RequestFacts {
    pub is_get: bool,
    pub if_none_match: Option<String>,
    /// The `extensions.cache` summary was asked for and is allowed.
    pub debug: bool,
}

impl ResponseCache {
    /// The cache; with `redis_url` set, its L2 connects lazily on `runtime` (the store
    /// runtime), so a Redis that is down at start only means no cache until it is up.
    pub fn new(
        config: CacheConfig,
        clock: Arc<dyn Clock>,
        runtime: &tokio::runtime::Handle,
    ) -> anyhow::Result<Self> {
        let store = Arc::new(ResponseStore::new(config.max_bytes, clock.clone()));
        let entities = config.entities.then(|| EntityLevel {
            store: Arc::new(ResponseStore::new(config.max_bytes, clock)),
            plans: entity::plan_memo(),
            root_plans: root_fields::plan_memo(),
        });
        let mut levels = vec![store.clone()];
        levels.extend(entities.as_ref().map(|e| e.store.clone()));
        let shared = match config.redis_url.trim() {
            "" => None,
            url => Some(SharedStore::start(
                url,
                &config.redis_prefix,
                runtime.clone(),
                levels,
            )?),
        };
        Ok(Self {
            config,
            policies: RwLock::new(None),
            store,
            shared,
            entities,
        })
    }

    pub fn store(&self) -> &ResponseStore {
        &self.store
    }

    /// Indexes a newly loaded supergraph.
    pub fn supergraph_loaded(&self, document: &Document) {
        let index = schema::SchemaIndex::from_document(document);
        let policies = Arc::new(Policies::new(index, &self.config));
        *self.policies.write().unwrap_or_else(|p| p.into_inner()) = Some(policies);
        if let Some(entities) = &self.entities {
            entities.plans.invalidate_all();
            entities.root_plans.invalidate_all();
        }
    }

    /// Installs policies directly (tests).
    pub fn set_policies(&self, policies: Policies) {
        *self.policies.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(policies));
    }

    fn policies(&self) -> Option<Arc<Policies>> {
        self.policies
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether a request may have the `extensions.cache` summary (`header`: its value).
    pub fn debug_allowed(&self, header: Option<&str>, signed_in: bool) -> bool {
        debug::allowed(self.config.debug, header, signed_in)
    }

    /// Whether subgraph fetches go through the entity level.
    pub fn entities_enabled(&self) -> bool {
        self.entities.is_some()
    }
}

impl entity::EntitySource for ResponseCache {
    fn entity_store(&self) -> Option<(&ResponseStore, Arc<Policies>)> {
        let level = self.entities.as_ref()?;
        if let Some(shared) = &self.shared
            && !shared.available()
        {
            // Deaf to the other instances' invalidations: as for whole responses, no cache.
            return None;
        }
        Some((&level.store, self.policies()?))
    }

    fn entity_plan(&self, policies: &Policies, query: &str) -> Option<Arc<entity::EntityPlan>> {
        let level = self.entities.as_ref()?;
        level
            .plans
            .get_with_by_ref(query, || entity::plan_of(policies, query).map(Arc::new))
    }

    fn root_plan(&self, policies: &Policies, query: &str) -> Option<Arc<root_fields::RootPlan>> {
        let level = self.entities.as_ref()?;
        level.root_plans.get_with_by_ref(query, || {
            root_fields::plan_of(policies, query).map(Arc::new)
        })
    }
}

#[cfg(test)]
mod tests;
