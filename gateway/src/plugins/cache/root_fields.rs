//! Root fields at the entity level: each cacheable root field of a subgraph's query fetch is
//! cached on its own, per subgraph, the field as the planner wrote it (arguments, directives,
//! selection), the values of the variables it uses, and the scope. `product(sku: $sku) { … }`
//! fetched from commerce for one operation is reused by any other whose plan asks commerce for
//! the same field with the same values, whatever else that operation holds.
//!
//! A fetch is answered from the cache when every one of its root fields is; otherwise it goes to
//! the subgraph whole (the planner wrote it as one document, and cutting fields out of it would
//! mean rewriting its variable definitions too) and every cacheable field of a clean answer is
//! stored. Policies, scopes, tags and the L1 store are the response cache's; a field's tags are
//! found by walking its value along its selection, as for whole responses. A `null` field is not
//! stored: the entity may be created later, and a creation names no key the entry could carry.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hive_router::executor::executors::common::SubgraphExecutionRequest;
use hive_router::executor::executors::error::SubgraphExecutorError;
use hive_router::executor::response::subgraph_response::SubgraphResponse;
use hive_router::graphql_tools::parser::query as q;
use hive_router::query_planner::ast::selection_set::SelectionSet;
use hive_router::query_planner::planner::plan_nodes::CustomScalarPaths;
use polygate_kit::Viewer;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::config::Scope;
use super::entity::{EntityPlan, reach, walk};
use super::policy::Policies;
use super::store::{Lookup, ResponseStore};
use super::{metrics, tags};

/// Bumped when the key's layout changes.
const KEY_VERSION: &[u8] = b"polygate-root-field-v1";
/// The `level` label of this level's events in `polygate_cache_events_total`.
const LEVEL: &str = "root_field";

/// The root fields of one fetch's query text, worked out once per text.
pub struct RootPlan {
    pub fields: Vec<RootField>,
}

pub struct RootField {
    /// The field's name in the response (its alias, if it has one).
    pub response_name: String,
    /// The field as the planner wrote it, the part of the key that names the selection.
    pub text: String,
    /// Every variable the field uses, its selection's included, sorted.
    pub variables: Vec<String>,
    /// A selection holding this field alone, to find the tags of its value.
    pub selection: SelectionSet,
    /// `None` when the field is not cached (a type without a policy or with max age 0, a
    /// scalar, introspection, a fragment spread).
    pub policy: Option<EntityPlan>,
}

impl RootField {
    fn label(&self) -> &str {
        self.policy
            .as_ref()
            .and_then(|p| p.types.first())
            .map_or("none", String::as_str)
    }
}

/// Distinct fetch texts whose root plan is remembered.
const MAX_PLANS: u64 = 10_000;

/// A remembered plan per fetch text (`None`: nothing in it is cached).
pub type PlanMemo = moka::sync::Cache<String, Option<Arc<RootPlan>>>;

pub fn plan_memo() -> PlanMemo {
    moka::sync::Cache::new(MAX_PLANS)
}

/// The plan of a query fetch, or `None` when nothing in it can be cached (an `_entities`
/// fetch, a mutation or subscription, fragments, no cacheable root field).
pub fn plan_of(policies: &Policies, query: &str) -> Option<RootPlan> {
    let document = q::parse_query::<String>(query).ok()?;
    let [q::Definition::Operation(operation)] = document.definitions.as_slice() else {
        return None;
    };
    let selection = match operation {
        q::OperationDefinition::Query(query) => &query.selection_set,
        q::OperationDefinition::SelectionSet(selection) => selection,
        _ => return None,
    };
    let mut fields = Vec::with_capacity(selection.items.len());
    for item in &selection.items {
        let q::Selection::Field(field) = item else {
            return None;
        };
        if field.name == "_entities" {
            return None;
        }
        fields.push(RootField {
            response_name: field.alias.clone().unwrap_or_else(|| field.name.clone()),
            text: field.to_string(),
            variables: variables_of(field),
            selection: SelectionSet::from(q::SelectionSet {
                span: selection.span,
                items: vec![item.clone()],
            }),
            policy: field_policy(policies, field),
        });
    }
    fields
        .iter()
        .any(|f| f.policy.is_some())
        .then_some(RootPlan { fields })
}

fn field_policy(policies: &Policies, field: &q::Field<'_, String>) -> Option<EntityPlan> {
    if field.name.starts_with("__") {
        return None;
    }
    let returns = policies
        .schema
        .field_type(&policies.schema.query_type, &field.name)?;
    if !policies.schema.is_composite(returns) {
        return None;
    }
    let mut plan = EntityPlan {
        max_age: Duration::MAX,
        scope: Scope::Public,
        types: BTreeSet::new(),
    };
    reach(policies, returns, &mut plan)?;
    walk(policies, returns, &field.selection_set, &mut plan)?;
    Some(plan)
}

fn variables_of(field: &q::Field<'_, String>) -> Vec<String> {
    let mut names = BTreeSet::new();
    variables_in_field(field, &mut names);
    names.into_iter().collect()
}

fn variables_in_field(field: &q::Field<'_, String>, names: &mut BTreeSet<String>) {
    for (_, value) in &field.arguments {
        variables_in_value(value, names);
    }
    variables_in_directives(&field.directives, names);
    variables_in_selection(&field.selection_set, names);
}

fn variables_in_selection(selection: &q::SelectionSet<'_, String>, names: &mut BTreeSet<String>) {
    for item in &selection.items {
        match item {
            q::Selection::Field(child) => variables_in_field(child, names),
            q::Selection::InlineFragment(fragment) => {
                variables_in_directives(&fragment.directives, names);
                variables_in_selection(&fragment.selection_set, names);
            }
            q::Selection::FragmentSpread(spread) => {
                variables_in_directives(&spread.directives, names);
            }
        }
    }
}

fn variables_in_directives(directives: &[q::Directive<'_, String>], names: &mut BTreeSet<String>) {
    for directive in directives {
        for (_, value) in &directive.arguments {
            variables_in_value(value, names);
        }
    }
}

fn variables_in_value(value: &q::Value<'_, String>, names: &mut BTreeSet<String>) {
    match value {
        q::Value::Variable(name) => {
            names.insert(name.clone());
        }
        q::Value::List(items) => items.iter().for_each(|v| variables_in_value(v, names)),
        q::Value::Object(fields) => fields
            .iter()
            .for_each(|(_, v)| variables_in_value(v, names)),
        _ => {}
    }
}

/// The key of one root field in one fetch.
pub fn field_key(
    subgraph: &str,
    field: &RootField,
    request: &SubgraphExecutionRequest<'_>,
    scope: Scope,
    viewer: Option<&str>,
) -> [u8; 32] {
    let mut hash = Sha256::new();
    for part in [KEY_VERSION, subgraph.as_bytes(), field.text.as_bytes()] {
        hash.update(part);
        hash.update([0]);
    }
    for name in &field.variables {
        hash.update(name.as_bytes());
        hash.update([1]);
        let value = request
            .variables
            .as_ref()
            .and_then(|v| v.get(name.as_str()));
        let raw = request
            .raw_variable_values
            .as_ref()
            .and_then(|raw| raw.iter().find(|(n, _)| *n == name.as_str()));
        match (value, raw) {
            (Some(value), _) => {
                hash.update([b'v']);
                hash.update(
                    hive_router::sonic_rs::to_string(value)
                        .unwrap_or_default()
                        .as_bytes(),
                );
            }
            (None, Some((_, bytes))) => {
                hash.update([b'r']);
                hash.update(bytes);
            }
            (None, None) => hash.update([b'-']),
        }
        hash.update([0]);
    }
    super::key::hash_scope(&mut hash, scope, viewer);
    hash.finalize().into()
}

/// One root fetch's cache work: each field's key (`None`: not cached for this request) and the
/// values found.
pub struct RootSplit {
    plan: Arc<RootPlan>,
    policies: Arc<Policies>,
    seq: u64,
    keys: Vec<Option<[u8; 32]>>,
    answered: Vec<Option<Value>>,
}

impl RootSplit {
    /// Looks every cacheable field of the fetch up.
    pub fn look_up(
        subgraph: &str,
        request: &SubgraphExecutionRequest<'_>,
        store: &ResponseStore,
        policies: Arc<Policies>,
        plan: Arc<RootPlan>,
    ) -> Self {
        let viewer = Viewer::from_headers(&request.headers).map(|v| v.user_id);
        // Read before the lookups: a write after this point makes what we store stale.
        let seq = store.sequence();
        let mut keys = Vec::with_capacity(plan.fields.len());
        let mut answered = Vec::with_capacity(plan.fields.len());
        for field in &plan.fields {
            let key = field.policy.as_ref().and_then(|policy| {
                // Private data of nobody has nothing to key it by.
                (policy.scope == Scope::Public || viewer.is_some())
                    .then(|| field_key(subgraph, field, request, policy.scope, viewer.as_deref()))
            });
            let found = key.and_then(|key| match store.get(&key) {
                Lookup::Hit(entry) => serde_json::from_slice::<Value>(&entry.body).ok(),
                Lookup::Expired(_) => {
                    metrics::event(LEVEL, "expired", field.label());
                    None
                }
                Lookup::Stale(_) => {
                    metrics::event(LEVEL, "stale_drop", field.label());
                    None
                }
                Lookup::Miss => None,
            });
            if key.is_some() {
                let event = if found.is_some() { "hit" } else { "miss" };
                metrics::event(LEVEL, event, field.label());
            }
            keys.push(key);
            answered.push(found);
        }
        Self {
            plan,
            policies,
            seq,
            keys,
            answered,
        }
    }

    /// Every field of the fetch was found.
    pub fn complete(&self) -> bool {
        self.answered.iter().all(Option::is_some)
    }

    /// The subgraph's answer, made of the cached fields.
    pub fn answer(
        self,
        custom_scalar_paths: Option<&CustomScalarPaths>,
    ) -> Result<SubgraphResponse<'static>, SubgraphExecutorError> {
        let data: serde_json::Map<String, Value> = self
            .plan
            .fields
            .iter()
            .zip(self.answered)
            .map(|(field, value)| (field.response_name.clone(), value.unwrap_or(Value::Null)))
            .collect();
        let bytes = serde_json::to_vec(&serde_json::json!({ "data": data })).unwrap_or_default();
        SubgraphResponse::deserialize_from_bytes(Bytes::from(bytes), custom_scalar_paths)
    }

    /// Stores every cacheable field of a clean answer that is not `null`.
    pub fn store(&self, store: &ResponseStore, response: &SubgraphResponse<'_>) {
        if response.errors.as_ref().is_some_and(|e| !e.is_empty()) {
            return;
        }
        let Some(mut data) = hive_router::sonic_rs::to_vec(&response.data)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        else {
            return;
        };
        for (field, key) in self.plan.fields.iter().zip(&self.keys) {
            let (Some(key), Some(policy)) = (key, &field.policy) else {
                continue;
            };
            let value = match data.get_mut(&field.response_name).map(Value::take) {
                Some(value) if !value.is_null() => value,
                _ => continue,
            };
            let alone = serde_json::json!({ field.response_name.clone(): value });
            let found = tags::find(
                &self.policies.schema,
                &self.policies.schema.query_type,
                &field.selection,
                &alone,
            );
            let mut entry_tags = found.entry_tags();
            entry_tags.extend(policy.types.iter().map(|t| format!("t:{t}")));
            entry_tags.sort();
            entry_tags.dedup();
            let value = &alone[field.response_name.as_str()];
            if store.put(
                *key,
                Bytes::from(value.to_string()),
                policy.max_age,
                self.seq,
                entry_tags,
                policy.scope,
                field.label().to_owned(),
            ) {
                metrics::event(LEVEL, "store", field.label());
            }
        }
    }
}
