//! The cache policy of an operation, decided before it runs: which types its selection reaches,
//! the smallest `max_age` among them, and whether any of them is private.
//!
//! Every composite type an operation reaches must have a policy (from the config or a composed
//! `@cacheControl`), else the operation is not cached: a type nobody declared may hold data that
//! differs per viewer (as `User.email` does), and caching it publicly would leak it.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use hive_router::query_planner::ast::operation::OperationDefinition;
use hive_router::query_planner::ast::selection_item::SelectionItem;
use hive_router::query_planner::ast::selection_set::SelectionSet;
use hive_router::query_planner::state::supergraph_state::OperationKind;

use super::config::{CacheConfig, Scope, TypePolicy};
use super::schema::SchemaIndex;

/// The schema with the config's overrides applied.
pub struct Policies {
    pub schema: SchemaIndex,
    /// Lower-cased type name → policy.
    overrides: HashMap<String, TypePolicy>,
    /// Lower-cased mutation field → types it changes.
    mutation_touches: HashMap<String, Vec<String>>,
    /// Operations worked out once (`prepared.rs`).
    pub(super) prepared: super::prepared::PreparedMemo,
    /// Requests answered once, to answer again before parsing (`early.rs`).
    pub(super) requests: super::early::RequestIndex,
}

/// The cache policy of one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationPolicy {
    pub max_age: Duration,
    pub scope: Scope,
    /// Every composite type the selection reaches, sorted.
    pub types: BTreeSet<String>,
}

impl OperationPolicy {
    /// The first type the operation reaches (its metric label).
    pub fn label(&self) -> &str {
        self.types.first().map_or("none", String::as_str)
    }
}

impl Policies {
    pub fn new(schema: SchemaIndex, config: &CacheConfig) -> Self {
        Self {
            schema,
            overrides: config
                .types
                .iter()
                .map(|(name, policy)| (name.to_ascii_lowercase(), *policy))
                .collect(),
            mutation_touches: config
                .mutations
                .iter()
                .map(|(name, types)| (name.to_ascii_lowercase(), types.clone()))
                .collect(),
            prepared: super::prepared::memo(),
            requests: super::early::index(),
        }
    }

    pub fn type_policy(&self, type_name: &str) -> Option<TypePolicy> {
        self.overrides
            .get(&type_name.to_ascii_lowercase())
            .copied()
            .or_else(|| self.schema.directive_policy(type_name))
    }

    /// Types a mutation field is configured to change, beyond what its response shows.
    pub fn touched_by(&self, mutation_field: &str) -> &[String] {
        self.mutation_touches
            .get(&mutation_field.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    /// The policy of `operation`, or `None` when it must not be cached: not a query, or it
    /// reaches a type without a policy or with `max_age` 0, or something the walk cannot follow.
    pub fn of_operation(&self, operation: &OperationDefinition) -> Option<OperationPolicy> {
        self.decide(operation).ok()
    }

    /// As [`Self::of_operation`], with the reason when the operation is not cached (shown in
    /// the `extensions.cache` debug summary).
    pub fn decide(&self, operation: &OperationDefinition) -> Result<OperationPolicy, String> {
        let (kind, selection) = operation.parts();
        match kind {
            OperationKind::Query => {}
            OperationKind::Mutation => return Err("mutation".to_owned()),
            OperationKind::Subscription => return Err("subscription".to_owned()),
        }
        let mut policy = OperationPolicy {
            max_age: Duration::MAX,
            scope: Scope::Public,
            types: BTreeSet::new(),
        };
        self.walk(&self.schema.query_type, selection, &mut policy)?;
        if policy.types.is_empty() {
            return Err("nothing but __typename".to_owned());
        }
        Ok(policy)
    }

    fn reach(&self, type_name: &str, policy: &mut OperationPolicy) -> Result<(), String> {
        if policy.types.contains(type_name) {
            return Ok(());
        }
        let found = self
            .type_policy(type_name)
            .ok_or_else(|| format!("no policy for type {type_name}"))?;
        if found.max_age_secs == 0 {
            return Err(format!("type {type_name} has max_age 0"));
        }
        policy.max_age = policy.max_age.min(Duration::from_secs(found.max_age_secs));
        if found.scope == Scope::Private {
            policy.scope = Scope::Private;
        }
        policy.types.insert(type_name.to_owned());
        Ok(())
    }

    fn walk(
        &self,
        parent: &str,
        selection: &SelectionSet,
        policy: &mut OperationPolicy,
    ) -> Result<(), String> {
        for item in &selection.items {
            match item {
                SelectionItem::Field(field) => {
                    if field.name == "__typename" {
                        continue;
                    }
                    // Unknown fields include introspection (`__schema`, `__type`): not cached.
                    let returns = self.schema.field_type(parent, &field.name).ok_or_else(|| {
                        format!("field {parent}.{} is introspection or unknown", field.name)
                    })?;
                    if self.schema.is_composite(returns) {
                        self.reach(returns, policy)?;
                        self.walk(returns, &field.selections, policy)?;
                    }
                }
                SelectionItem::InlineFragment(fragment) => {
                    let on = fragment.type_condition.as_str();
                    if on != parent {
                        self.reach(on, policy)?;
                    }
                    self.walk(on, &fragment.selections, policy)?;
                }
                // The engine expands fragments before planning; one left over is not followed.
                SelectionItem::FragmentSpread(_) => {
                    return Err("an unexpanded fragment spread".to_owned());
                }
            }
        }
        Ok(())
    }
}
