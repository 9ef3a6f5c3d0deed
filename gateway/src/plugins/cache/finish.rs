//! After the response exists: store it (L1 and L2) with its tags, or drop what a mutation
//! changed, and set the cache headers or answer 304.

use hive_router::executor::plugin_context::PluginContext;
use hive_router::query_planner::ast::operation::OperationDefinition;
use hive_router::query_planner::ast::selection_item::SelectionItem;
use ntex::web::WebResponse;

use super::debug::Summary;
use super::policy::Policies;
use super::response::{body_bytes, clean_body, data_of, with_cache_headers, with_debug_summary};
use super::store::etag_of;
use super::{Pending, RequestFacts, ResponseCache, Work, metrics, tags};

impl ResponseCache {
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
            Some(work) => self.finish(context, work, facts, response, summary.as_mut()),
            None => response,
        };
        match summary {
            Some(summary) => with_debug_summary(response, &summary),
            None => response,
        }
    }

    fn finish(
        &self,
        context: &PluginContext,
        work: Work,
        facts: &RequestFacts,
        response: WebResponse,
        summary: Option<&mut Summary>,
    ) -> WebResponse {
        match work {
            Work::Served {
                key,
                max_age_secs,
                scope,
                etag,
            } => {
                self.remember(context, key, &response);
                with_cache_headers(response, facts, "hit", max_age_secs, scope, &etag)
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
                    self.remember(context, key, &response);
                    if let Some(summary) = summary {
                        summary.status = "store";
                    }
                } else {
                    not_stored(
                        summary,
                        "not stored in L1: a write to what it holds raced the query",
                    );
                }
                with_cache_headers(response, facts, "miss", max_age_secs, policy.scope, &etag)
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
