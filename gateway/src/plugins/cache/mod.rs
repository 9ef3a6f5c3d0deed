//! The gateway's response cache, as part of our plugin.
//!
//! A query is looked up after the engine has parsed, validated and planned it (`on_execute`,
//! where the normalised operation and coerced variables exist), and answered from the cache
//! without touching a subgraph on a hit. On a miss, the finished HTTP response is stored when
//! it is a 200 with `data` and no `errors`. A mutation's response is walked for the entities it
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
pub mod entity;
pub mod key;
pub mod l2;
pub mod metrics;
pub mod policy;
pub mod prepared;
pub mod root_fields;
pub mod schema;
pub mod store;
pub mod tags;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use hive_router::PlanExecutionOutput;
use hive_router::executor::plugin_context::PluginContext;
use hive_router::graphql_tools::static_graphql::schema::Document;
use hive_router::query_planner::ast::operation::OperationDefinition;
use hive_router::query_planner::ast::selection_item::SelectionItem;
use hive_router::query_planner::state::supergraph_state::OperationKind;
use ntex::http::body::{Body, ResponseBody};
use ntex::http::header::{HeaderName, HeaderValue};
use ntex::web::WebResponse;
use polygate_kit::Viewer;

use self::clock::Clock;
use self::config::{CacheConfig, Scope};
use self::debug::{DebugRequested, Summary};
use self::l2::{SharedLookup, SharedStore};
use self::policy::{OperationPolicy, Policies};
use self::prepared::OperationText;
use self::store::{Lookup, ResponseStore, etag_of};

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
    /// Served from the cache.
    Served {
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

fn header_value(text: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(text).ok()
}

fn cache_control(max_age_secs: u64, scope: Scope) -> String {
    let scope = match scope {
        Scope::Public => "public",
        Scope::Private => "private",
    };
    format!("{scope}, max-age={max_age_secs}")
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

    /// Before execution: the cached response for this operation, or `None` after noting in the
    /// context what to do with the response once it exists.
    pub async fn before_execute(
        &self,
        context: &PluginContext,
        operation: &OperationDefinition,
        variables: Option<&HashMap<String, hive_router::sonic_rs::Value>>,
    ) -> Option<PlanExecutionOutput> {
        let Some(policies) = self.policies() else {
            note_summary(context, || Summary::bypass("no supergraph loaded yet"));
            return None;
        };
        let debug = context.get_ref::<DebugRequested>().is_some();
        let (kind, _) = operation.parts();
        if matches!(kind, OperationKind::Mutation) {
            context.insert(pending(
                Work::Invalidate {
                    operation: Box::new(operation.clone()),
                    policies,
                },
                debug.then(|| Summary::bypass("mutation")),
            ));
            return None;
        }
        if let Some(shared) = &self.shared
            && !shared.available()
        {
            // Deaf to the other instances' invalidations: serve and store nothing.
            note_summary(context, || Summary::bypass(shared.unavailable_reason()));
            return None;
        }
        let text = context.get_ref::<OperationText>().map(|text| *text);
        let prepared = policies.prepare(text, operation);
        let policy = match &prepared.decision {
            Ok(policy) => policy.clone(),
            Err(reason) => {
                note_summary(context, || Summary::bypass(reason.clone()));
                return None;
            }
        };
        let viewer = context.get_ref::<Viewer>().map(|v| v.user_id.clone());
        if policy.scope == Scope::Private && viewer.is_none() {
            // Private data of nobody: nothing to key it by, so it is not cached.
            note_summary(context, || {
                Summary::bypass(format!(
                    "private ({}) without a signed-in viewer",
                    policy.types.iter().cloned().collect::<Vec<_>>().join(", ")
                ))
            });
            return None;
        }
        let key = key::finish_key(
            prepared.key_hasher.clone(),
            variables,
            policy.scope,
            viewer.as_deref(),
        );
        let mut summary = debug.then(|| Summary::looked_up(&policy, &key));
        let mut looked = |what: &str| {
            if let Some(summary) = summary.as_mut() {
                summary.lookups.push(what.to_owned());
            }
        };
        // Read before the lookup: a write after this point makes what we store stale.
        let seq = self.store.sequence();
        match self.store.get(&key) {
            Lookup::Hit(entry) => {
                metrics::event("l1", "hit", &entry.label);
                looked("l1:hit");
                let now = self.store.now_ms();
                let max_age_secs = entry.remaining_secs(now);
                context.insert(pending(
                    Work::Served {
                        max_age_secs,
                        scope: entry.scope,
                        etag: entry.etag().to_owned(),
                    },
                    summary.map(|s| s.hit("l1", max_age_secs)),
                ));
                return Some(PlanExecutionOutput {
                    body: entry.body.to_vec(),
                    error_count: 0,
                    status_code: http::StatusCode::OK,
                });
            }
            Lookup::Expired(_) => {
                metrics::event("l1", "expired", policy.label());
                looked("l1:expired");
            }
            Lookup::Stale(_) => {
                metrics::event("l1", "stale_drop", policy.label());
                looked("l1:stale");
            }
            Lookup::Miss => looked("l1:miss"),
        }
        metrics::event("l1", "miss", policy.label());
        let mut shared_seq = None;
        if let Some(shared) = &self.shared {
            match shared.get(&key).await {
                Some(SharedLookup::Hit(entry)) => {
                    metrics::event("l2", "hit", &entry.label);
                    looked("l2:hit");
                    let body = entry.body.to_vec();
                    let max_age_secs = entry.remaining.as_secs();
                    context.insert(pending(
                        Work::Served {
                            max_age_secs,
                            scope: entry.scope,
                            etag: etag_of(&entry.body),
                        },
                        summary.map(|s| s.hit("l2", max_age_secs)),
                    ));
                    self.store.put(
                        key,
                        entry.body,
                        entry.remaining,
                        seq,
                        entry.tags,
                        entry.scope,
                        entry.label,
                    );
                    return Some(PlanExecutionOutput {
                        body,
                        error_count: 0,
                        status_code: http::StatusCode::OK,
                    });
                }
                Some(SharedLookup::Miss { seq }) => {
                    metrics::event("l2", "miss", policy.label());
                    looked("l2:miss");
                    shared_seq = Some(seq);
                }
                // Redis failed (counted and logged): answer uncached, store nothing.
                None => {
                    looked("l2:error");
                    if let Some(mut summary) = summary {
                        summary.reason = Some("L2 (Redis) call failed: not stored".to_owned());
                        note_summary(context, || summary);
                    }
                    return None;
                }
            }
        }
        context.insert(pending(
            Work::Store {
                key,
                seq,
                shared_seq,
                policy,
                operation: Box::new(operation.clone()),
                policies,
            },
            summary,
        ));
        None
    }

    /// After the response exists: store it, or invalidate what a mutation changed, and set
    /// `Cache-Control`, `ETag` and the cache status header (or answer 304); add the
    /// `extensions.cache` summary when it was asked for.
    pub fn after_response(
        &self,
        context: &PluginContext,
        facts: &RequestFacts,
        response: WebResponse,
    ) -> WebResponse {
        let Some(Pending { work, summary }) =
            context.get_mut::<Pending>().map(|mut pending| Pending {
                work: pending.work.take(),
                summary: pending.summary.take(),
            })
        else {
            if facts.debug {
                let summary = Summary::bypass("not executed: the request failed before planning");
                return with_debug_summary(response, &summary);
            }
            return response;
        };
        let mut summary = summary.filter(|_| facts.debug);
        let response = match work {
            Some(work) => self.finish(work, facts, response, summary.as_mut()),
            None => response,
        };
        match summary {
            Some(summary) => with_debug_summary(response, &summary),
            None => response,
        }
    }

    fn finish(
        &self,
        work: Work,
        facts: &RequestFacts,
        mut response: WebResponse,
        summary: Option<&mut Summary>,
    ) -> WebResponse {
        match work {
            Work::Served {
                max_age_secs,
                scope,
                etag,
            } => {
                if !facts.debug
                    && facts.is_get
                    && facts.if_none_match.as_deref() == Some(etag.as_str())
                {
                    return not_modified(response, &etag, max_age_secs, scope);
                }
                set_headers(&mut response, "hit", max_age_secs, scope, &etag);
                response
            }
            Work::Store {
                key,
                seq,
                shared_seq,
                policy,
                operation,
                policies,
            } => {
                let not_stored = |summary: Option<&mut Summary>, reason: &str| {
                    if let Some(summary) = summary {
                        summary.reason = Some(reason.to_owned());
                    }
                };
                let Some(body) = clean_body(&response) else {
                    not_stored(
                        summary,
                        "not stored: not a 200 with data and no errors (or compressed)",
                    );
                    return response;
                };
                let Some(found) = data_of(&body).map(|data| {
                    tags::find(
                        &policies.schema,
                        &policies.schema.query_type,
                        &operation.selection_set,
                        &data,
                    )
                }) else {
                    not_stored(summary, "not stored: no data object");
                    return response;
                };
                let mut entry_tags = found.entry_tags();
                // A type the operation reaches but the response held none of (an empty list)
                // still tags the entry, so a write to that type drops it.
                entry_tags.extend(policy.types.iter().map(|t| format!("t:{t}")));
                entry_tags.sort();
                entry_tags.dedup();
                let etag = etag_of(&body);
                let label = policy.label().to_owned();
                let max_age_secs = policy.max_age.as_secs();
                if let (Some(shared), Some(shared_seq)) = (&self.shared, shared_seq) {
                    shared.put(
                        &key,
                        body.clone(),
                        policy.max_age,
                        shared_seq,
                        &entry_tags,
                        policy.scope,
                        &label,
                    );
                }
                if self.store.put(
                    key,
                    body,
                    policy.max_age,
                    seq,
                    entry_tags,
                    policy.scope,
                    label.clone(),
                ) {
                    metrics::event("l1", "store", &label);
                    if let Some(summary) = summary {
                        summary.status = "store";
                    }
                } else {
                    not_stored(
                        summary,
                        "not stored in L1: a write to what it holds raced the query",
                    );
                }
                if !facts.debug
                    && facts.is_get
                    && facts.if_none_match.as_deref() == Some(etag.as_str())
                {
                    return not_modified(response, &etag, max_age_secs, policy.scope);
                }
                set_headers(&mut response, "miss", max_age_secs, policy.scope, &etag);
                response
            }
            Work::Invalidate {
                operation,
                policies,
            } => {
                let invalidated = self.invalidate_after_mutation(&response, &operation, &policies);
                if let Some(summary) = summary {
                    summary.invalidated = invalidated;
                }
                response
            }
        }
    }

    fn invalidate_after_mutation(
        &self,
        response: &WebResponse,
        operation: &OperationDefinition,
        policies: &Policies,
    ) -> Vec<String> {
        let mut invalidated: Vec<String> = Vec::new();
        if let Some(data) = body_bytes(response).as_deref().and_then(data_of) {
            let found = tags::find(
                &policies.schema,
                &policies.schema.mutation_type,
                &operation.selection_set,
                &data,
            );
            invalidated.extend(found.invalidation_tags());
        }
        // Side effects the response does not show: the configured types, whether or not the
        // mutation reported an error (a failed mutation may still have written).
        for item in &operation.selection_set.items {
            if let SelectionItem::Field(field) = item {
                for type_name in policies.touched_by(&field.name) {
                    invalidated.push(format!("t:{type_name}"));
                }
            }
        }
        if invalidated.is_empty() {
            return invalidated;
        }
        invalidated.sort();
        invalidated.dedup();
        self.store.invalidate(&invalidated);
        if let Some(entities) = &self.entities {
            entities.store.invalidate(&invalidated);
        }
        if let Some(shared) = &self.shared {
            shared.invalidate(invalidated.clone());
        }
        for tag in &invalidated {
            let type_name = tag.split(':').nth(1).unwrap_or("unknown");
            metrics::event("l1", "invalidation", type_name);
        }
        invalidated
    }
}

impl ResponseCache {
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

/// The body of a response the engine produced in one piece.
fn body_bytes(response: &WebResponse) -> Option<Bytes> {
    match response.response().body() {
        ResponseBody::Body(Body::Bytes(bytes)) | ResponseBody::Other(Body::Bytes(bytes)) => {
            Some(Bytes::copy_from_slice(bytes))
        }
        _ => None,
    }
}

/// The body when the response may be cached: 200, not compressed, JSON with data and no errors.
fn clean_body(response: &WebResponse) -> Option<Bytes> {
    let inner = response.response();
    if inner.status() != ntex::http::StatusCode::OK
        || inner.headers().contains_key("content-encoding")
    {
        return None;
    }
    let body = body_bytes(response)?;
    let parsed: serde_json::Value = serde_json::from_slice(&body).ok()?;
    let has_errors = parsed.get("errors").is_some_and(|e| !e.is_null());
    let has_data = parsed.get("data").is_some_and(serde_json::Value::is_object);
    (!has_errors && has_data).then_some(body)
}

fn data_of(body: &[u8]) -> Option<serde_json::Value> {
    let mut parsed: serde_json::Value = serde_json::from_slice(body).ok()?;
    let data = parsed.get_mut("data")?.take();
    data.is_object().then_some(data)
}

fn set_headers(
    response: &mut WebResponse,
    status: &str,
    max_age_secs: u64,
    scope: Scope,
    etag: &str,
) {
    let headers = response.response_mut().headers_mut();
    for (name, value) in [
        ("cache-control", cache_control(max_age_secs, scope)),
        ("etag", etag.to_owned()),
        (CACHE_STATUS_HEADER, status.to_owned()),
    ] {
        if let (Ok(name), Some(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            header_value(&value),
        ) {
            headers.insert(name, value);
        }
    }
}

/// The response with `extensions.cache` in its body, `Cache-Control: no-store` and no `ETag`:
/// the body is not the cached one, and no shared HTTP cache may keep it.
fn with_debug_summary(response: WebResponse, summary: &Summary) -> WebResponse {
    let Some(body) = body_bytes(&response).and_then(|b| debug::with_summary(&b, summary)) else {
        return response;
    };
    response.map_body(move |head, _| {
        head.headers.remove(ntex::http::header::CONTENT_LENGTH);
        head.headers.remove(ntex::http::header::ETAG);
        head.headers.insert(
            ntex::http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
        ResponseBody::Body(Body::from(body))
    })
}

fn not_modified(response: WebResponse, etag: &str, max_age_secs: u64, scope: Scope) -> WebResponse {
    let mut reply = ntex::http::Response::build(ntex::http::StatusCode::NOT_MODIFIED).finish();
    let headers = reply.headers_mut();
    for (name, value) in [
        ("cache-control", cache_control(max_age_secs, scope)),
        ("etag", etag.to_owned()),
        (CACHE_STATUS_HEADER, "hit".to_owned()),
    ] {
        if let (Ok(name), Some(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            header_value(&value),
        ) {
            headers.insert(name, value);
        }
    }
    response.into_response(reply)
}

#[cfg(test)]
mod tests;
