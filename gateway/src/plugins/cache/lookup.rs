//! Before execution: answer from L1, then L2, or note in the request's context what to store
//! (or, for a mutation, what to invalidate) once the response exists.

use std::collections::HashMap;

use hive_router::PlanExecutionOutput;
use hive_router::executor::plugin_context::PluginContext;
use hive_router::query_planner::ast::operation::OperationDefinition;
use hive_router::query_planner::state::supergraph_state::OperationKind;
use polygate_kit::Viewer;

use super::config::Scope;
use super::debug::{DebugRequested, Summary};
use super::l2::SharedLookup;
use super::prepared::OperationText;
use super::store::{Lookup, etag_of};
use super::{ResponseCache, Work, key, metrics, note_summary, pending};

impl ResponseCache {
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
                        key,
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
                            key,
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
}
