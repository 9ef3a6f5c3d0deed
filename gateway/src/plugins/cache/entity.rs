//! The entity cache: each representation of a subgraph's `_entities` fetch is cached on its
//! own, per subgraph, selection (the fetch's query text and its other variables), type, key and
//! scope, so a query needing 50 products of which 45 are cached forwards only the other 5.
//!
//! The hook is the executor: Hive Router hands every subgraph fetch to a `SubgraphExecutor`,
//! with the representations as one raw JSON variable (`representations`). [`EntityExecutor`]
//! wraps whichever executor the transport chose (in-process or HTTP), answers the cached
//! representations, forwards the rest as a shorter list and merges the answers back in the
//! original order (an error's `_entities` index is mapped back too). Policy, scopes, tags and
//! the L1 store are the response cache's: an entry is `e:Type:key` + `t:Type` for its own
//! entity, `u:Type` for every other type its selection reaches (any entity of those types
//! changing drops it), so the same invalidations drop both levels.
//!
//! The one non-obvious decision: an entity entry lives in L1 only. A representation is a
//! few hundred bytes, and a Redis round trip per fetch would cost about what the in-process
//! subgraph call it saves costs; the shared L2 stays for whole responses.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use hive_router::executor::executors::common::{
    SubgraphExecutionRequest, SubgraphExecutor, SubgraphExecutorBoxedArc,
};
use hive_router::executor::executors::error::SubgraphExecutorError;
use hive_router::executor::plugin_context::PluginRequestState;
use hive_router::executor::response::graphql_error::GraphQLErrorPathSegment;
use hive_router::executor::response::subgraph_response::SubgraphResponse;
use hive_router::graphql_tools::parser::query as q;
use http::Uri;
use polygate_kit::Viewer;
use sha2::{Digest, Sha256};

use super::config::Scope;
use super::metrics;
use super::policy::Policies;
use super::root_fields::{RootPlan, RootSplit};
use super::store::{Lookup, ResponseStore};

/// Bumped when the key's layout changes.
const KEY_VERSION: &[u8] = b"polygate-entity-v1";
/// Fetches with more representations than this go through uncached (the planner batches a
/// whole list level into one fetch; past this, per-representation hashing is not worth it).
const MAX_REPRESENTATIONS: usize = 1_000;
/// Distinct fetch selections whose policy is remembered.
const MAX_PLANS: u64 = 10_000;

/// The cache policy of one `_entities` selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityPlan {
    pub max_age: Duration,
    pub scope: Scope,
    /// Every composite type the selection reaches, its entity types included.
    pub types: BTreeSet<String>,
}

/// The policy of an `_entities` fetch's query, or `None` when it is not one or is not cached
/// (a type without a policy or with max age 0, a fragment spread, a mutation).
pub fn plan_of(policies: &Policies, query: &str) -> Option<EntityPlan> {
    let document = q::parse_query::<String>(query).ok()?;
    let mut operations = document.definitions.iter().filter_map(|d| match d {
        q::Definition::Operation(operation) => Some(operation),
        q::Definition::Fragment(_) => None,
    });
    let selection = match operations.next()? {
        q::OperationDefinition::Query(query) => &query.selection_set,
        q::OperationDefinition::SelectionSet(selection) => selection,
        _ => return None,
    };
    let [q::Selection::Field(entities)] = selection.items.as_slice() else {
        return None;
    };
    if entities.name != "_entities" {
        return None;
    }
    let mut plan = EntityPlan {
        max_age: Duration::MAX,
        scope: Scope::Public,
        types: BTreeSet::new(),
    };
    for item in &entities.selection_set.items {
        match item {
            q::Selection::Field(field) if field.name == "__typename" => {}
            q::Selection::InlineFragment(fragment) => {
                let q::TypeCondition::On(on) = fragment.type_condition.as_ref()?;
                reach(policies, on, &mut plan)?;
                walk(policies, on, &fragment.selection_set, &mut plan)?;
            }
            _ => return None,
        }
    }
    (!plan.types.is_empty()).then_some(plan)
}

pub(super) fn reach(policies: &Policies, type_name: &str, plan: &mut EntityPlan) -> Option<()> {
    if plan.types.contains(type_name) {
        return Some(());
    }
    let found = policies.type_policy(type_name)?;
    if found.max_age_secs == 0 {
        return None;
    }
    plan.max_age = plan.max_age.min(Duration::from_secs(found.max_age_secs));
    if found.scope == Scope::Private {
        plan.scope = Scope::Private;
    }
    plan.types.insert(type_name.to_owned());
    Some(())
}

pub(super) fn walk(
    policies: &Policies,
    parent: &str,
    selection: &q::SelectionSet<'_, String>,
    plan: &mut EntityPlan,
) -> Option<()> {
    for item in &selection.items {
        match item {
            q::Selection::Field(field) => {
                if field.name == "__typename" {
                    continue;
                }
                let returns = policies.schema.field_type(parent, &field.name)?;
                if policies.schema.is_composite(returns) {
                    reach(policies, returns, plan)?;
                    walk(policies, returns, &field.selection_set, plan)?;
                }
            }
            q::Selection::InlineFragment(fragment) => {
                let on = match fragment.type_condition.as_ref() {
                    Some(q::TypeCondition::On(on)) => on.as_str(),
                    None => parent,
                };
                if on != parent {
                    reach(policies, on, plan)?;
                }
                walk(policies, on, &fragment.selection_set, plan)?;
            }
            q::Selection::FragmentSpread(_) => return None,
        }
    }
    Some(())
}

/// The key of one representation in one fetch.
pub fn entity_key(
    subgraph: &str,
    query: &str,
    variables: &[(&str, String)],
    representation: &[u8],
    scope: Scope,
    viewer: Option<&str>,
) -> [u8; 32] {
    let mut hash = Sha256::new();
    for part in [KEY_VERSION, subgraph.as_bytes(), query.as_bytes()] {
        hash.update(part);
        hash.update([0]);
    }
    for (name, value) in variables {
        hash.update(name.as_bytes());
        hash.update([1]);
        hash.update(value.as_bytes());
        hash.update([0]);
    }
    hash.update(representation);
    hash.update([0]);
    super::key::hash_scope(&mut hash, scope, viewer);
    hash.finalize().into()
}

/// The tags of a cached representation: `e:Type:key` (or `u:Type` when the representation
/// lacks the key the schema names entities by) and `t:Type` for its own type; `u:` and `t:`
/// for every other type its selection reaches.
pub fn entity_tags(
    policies: &Policies,
    plan: &EntityPlan,
    representation: &serde_json::Value,
) -> Vec<String> {
    let own = representation
        .get("__typename")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    let mut tags: Vec<String> = plan.types.iter().map(|t| format!("t:{t}")).collect();
    let key = policies
        .schema
        .key(own)
        .and_then(|field| representation.get(field))
        .and_then(|value| match value {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    match key {
        Some(key) => tags.push(format!("e:{own}:{key}")),
        None => tags.push(format!("u:{own}")),
    }
    tags.extend(
        plan.types
            .iter()
            .filter(|t| t.as_str() != own)
            .map(|t| format!("u:{t}")),
    );
    tags.sort();
    tags.dedup();
    tags
}

/// What the entity cache needs from the response cache, per fetch.
pub trait EntitySource: Send + Sync {
    /// The L1 the entities live in, when caching is possible right now (enabled, a supergraph
    /// loaded, the shared level hearing invalidations).
    fn entity_store(&self) -> Option<(&ResponseStore, Arc<Policies>)>;
    /// The plan of a fetch's query text (remembered per text).
    fn entity_plan(&self, policies: &Policies, query: &str) -> Option<Arc<EntityPlan>>;
    /// The root-field plan of a query fetch's text (remembered per text).
    fn root_plan(&self, policies: &Policies, query: &str) -> Option<Arc<RootPlan>>;
}

/// A remembered plan per query text (`None`: not cached).
pub type PlanMemo = moka::sync::Cache<String, Option<Arc<EntityPlan>>>;

pub fn plan_memo() -> PlanMemo {
    moka::sync::Cache::new(MAX_PLANS)
}

/// Wraps a subgraph's executor with the entity cache.
pub struct EntityExecutor {
    subgraph: String,
    inner: SubgraphExecutorBoxedArc,
    source: Arc<dyn EntitySource>,
}

impl EntityExecutor {
    pub fn wrap(
        subgraph: &str,
        inner: SubgraphExecutorBoxedArc,
        source: Arc<dyn EntitySource>,
    ) -> SubgraphExecutorBoxedArc {
        Arc::new(Box::new(Self {
            subgraph: subgraph.to_owned(),
            inner,
            source,
        }))
    }
}

/// One fetch's cache work: which representations were answered, which go to the subgraph.
struct Split {
    plan: Arc<EntityPlan>,
    policies: Arc<Policies>,
    seq: u64,
    representations: Vec<serde_json::Value>,
    keys: Vec<[u8; 32]>,
    answered: Vec<Option<serde_json::Value>>,
    missing: Vec<usize>,
}

fn own_type(representation: &serde_json::Value) -> &str {
    representation
        .get("__typename")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("unknown")
}

impl EntityExecutor {
    /// Looks every representation up; `None` when this fetch is not cached at all.
    fn split(&self, request: &SubgraphExecutionRequest<'_>) -> Option<Split> {
        let raw = request
            .raw_variable_values
            .as_ref()?
            .iter()
            .find(|(name, _)| *name == "representations")
            .map(|(_, bytes)| bytes)?;
        let (store, policies) = self.source.entity_store()?;
        let plan = self.source.entity_plan(&policies, request.query)?;
        let representations: Vec<serde_json::Value> = serde_json::from_slice(raw).ok()?;
        if representations.is_empty() || representations.len() > MAX_REPRESENTATIONS {
            return None;
        }
        let viewer = Viewer::from_headers(&request.headers).map(|v| v.user_id);
        if plan.scope == Scope::Private && viewer.is_none() {
            return None;
        }
        let mut variables: Vec<(&str, String)> = request
            .variables
            .iter()
            .flatten()
            .map(|(name, value)| {
                (
                    *name,
                    hive_router::sonic_rs::to_string(value).unwrap_or_default(),
                )
            })
            .collect();
        variables.sort();
        // Read before the lookups: a write after this point makes what we store stale.
        let seq = store.sequence();
        let mut keys = Vec::with_capacity(representations.len());
        let mut answered = Vec::with_capacity(representations.len());
        let mut missing = Vec::new();
        for (index, representation) in representations.iter().enumerate() {
            let key = entity_key(
                &self.subgraph,
                request.query,
                &variables,
                representation.to_string().as_bytes(),
                plan.scope,
                viewer.as_deref(),
            );
            let type_name = own_type(representation);
            let found = match store.get(&key) {
                Lookup::Hit(entry) => serde_json::from_slice(&entry.body).ok(),
                Lookup::Expired(_) => {
                    metrics::event("entity", "expired", type_name);
                    None
                }
                Lookup::Stale(_) => {
                    metrics::event("entity", "stale_drop", type_name);
                    None
                }
                Lookup::Miss => None,
            };
            match found {
                Some(entity) => {
                    metrics::event("entity", "hit", type_name);
                    answered.push(Some(entity));
                }
                None => {
                    metrics::event("entity", "miss", type_name);
                    answered.push(None);
                    missing.push(index);
                }
            }
            keys.push(key);
        }
        Some(Split {
            plan,
            policies,
            seq,
            representations,
            keys,
            answered,
            missing,
        })
    }

    /// Stores the fetched entities (when the answer is clean) and merges them in order.
    fn merge(
        &self,
        mut split: Split,
        response: Option<SubgraphResponse<'static>>,
        custom_scalar_paths: Option<
            &hive_router::query_planner::planner::plan_nodes::CustomScalarPaths,
        >,
    ) -> Result<SubgraphResponse<'static>, SubgraphExecutorError> {
        let mut errors = None;
        let (mut status, mut headers) = (None, None);
        if let Some(mut response) = response {
            let fetched: Vec<serde_json::Value> = hive_router::sonic_rs::to_vec(&response.data)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
                .and_then(
                    |mut data| match data.get_mut("_entities").map(serde_json::Value::take) {
                        Some(serde_json::Value::Array(list)) => Some(list),
                        _ => None,
                    },
                )
                .unwrap_or_default();
            let clean = response.errors.as_ref().is_none_or(Vec::is_empty)
                && fetched.len() == split.missing.len();
            if let Some(list) = response.errors.as_mut() {
                for error in list {
                    remap_entity_index(error, &split.missing);
                }
            }
            errors = response.errors.take();
            status = response.status;
            headers = response.headers.take();
            let store = self.source.entity_store().map(|(store, _)| store);
            for (position, entity) in fetched.into_iter().enumerate() {
                let Some(&index) = split.missing.get(position) else {
                    break;
                };
                if clean
                    && !entity.is_null()
                    && let Some(store) = store
                {
                    let representation = &split.representations[index];
                    let tags = entity_tags(&split.policies, &split.plan, representation);
                    let label = own_type(representation).to_owned();
                    if store.put(
                        split.keys[index],
                        Bytes::from(entity.to_string()),
                        split.plan.max_age,
                        split.seq,
                        tags,
                        split.plan.scope,
                        label.clone(),
                    ) {
                        metrics::event("entity", "store", &label);
                    }
                }
                split.answered[index] = Some(entity);
            }
        }
        let entities: Vec<serde_json::Value> = split
            .answered
            .into_iter()
            .map(|e| e.unwrap_or(serde_json::Value::Null))
            .collect();
        let body = serde_json::json!({ "data": { "_entities": entities } });
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut merged =
            SubgraphResponse::deserialize_from_bytes(Bytes::from(bytes), custom_scalar_paths)?;
        merged.errors = errors;
        merged.status = status;
        merged.headers = headers;
        Ok(merged)
    }
}

impl EntityExecutor {
    /// A fetch that is not `_entities`: its root fields from the cache when all are there,
    /// else forwarded and its cacheable fields stored.
    async fn execute_root<'a>(
        &self,
        execution_request: SubgraphExecutionRequest<'a>,
        timeout: Option<Duration>,
        plugin_req_state: Option<&'a PluginRequestState<'a>>,
    ) -> Result<SubgraphResponse<'static>, SubgraphExecutorError> {
        let split = self.source.entity_store().and_then(|(store, policies)| {
            let plan = self.source.root_plan(&policies, execution_request.query)?;
            Some(RootSplit::look_up(
                &self.subgraph,
                &execution_request,
                store,
                policies,
                plan,
            ))
        });
        let Some(split) = split else {
            return self
                .inner
                .execute(execution_request, timeout, plugin_req_state)
                .await;
        };
        if split.complete() {
            return split.answer(execution_request.custom_scalar_paths);
        }
        let response = self
            .inner
            .execute(execution_request, timeout, plugin_req_state)
            .await?;
        if let Some((store, _)) = self.source.entity_store() {
            split.store(store, &response);
        }
        Ok(response)
    }
}

/// An error at `["_entities", i, …]` of the shortened fetch points at the original index.
fn remap_entity_index(error: &mut hive_router::GraphQLError, missing: &[usize]) {
    let Some(path) = error.path.as_mut() else {
        return;
    };
    if let [
        GraphQLErrorPathSegment::String(first),
        GraphQLErrorPathSegment::Index(i),
        ..,
    ] = path.segments.as_mut_slice()
        && first.as_str() == "_entities"
        && let Some(&original) = missing.get(*i)
    {
        *i = original;
    }
}

#[async_trait]
impl SubgraphExecutor for EntityExecutor {
    fn executor_name(&self) -> &str {
        self.inner.executor_name()
    }

    fn endpoint(&self) -> &Uri {
        self.inner.endpoint()
    }

    async fn execute<'a>(
        &self,
        mut execution_request: SubgraphExecutionRequest<'a>,
        timeout: Option<Duration>,
        plugin_req_state: Option<&'a PluginRequestState<'a>>,
    ) -> Result<SubgraphResponse<'static>, SubgraphExecutorError> {
        let Some(split) = self.split(&execution_request) else {
            return self
                .execute_root(execution_request, timeout, plugin_req_state)
                .await;
        };
        let paths = execution_request.custom_scalar_paths;
        if split.missing.is_empty() {
            return self.merge(split, None, paths);
        }
        if split.missing.len() < split.representations.len() {
            let forwarded: Vec<&serde_json::Value> = split
                .missing
                .iter()
                .map(|&i| &split.representations[i])
                .collect();
            let bytes = serde_json::to_vec(&forwarded).unwrap_or_default();
            if let Some(raw) = execution_request.raw_variable_values.as_mut() {
                for (name, value) in raw.iter_mut() {
                    if *name == "representations" {
                        *value = bytes.clone();
                    }
                }
            }
        }
        let response = self
            .inner
            .execute(execution_request, timeout, plugin_req_state)
            .await?;
        self.merge(split, Some(response), paths)
    }

    async fn subscribe<'a>(
        &self,
        execution_request: SubgraphExecutionRequest<'a>,
        timeout: Option<Duration>,
    ) -> Result<
        BoxStream<'static, Result<SubgraphResponse<'static>, SubgraphExecutorError>>,
        SubgraphExecutorError,
    > {
        self.inner.subscribe(execution_request, timeout).await
    }
}
