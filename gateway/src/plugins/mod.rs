//! Our behaviour, added to Hive Router through its plugin hooks (never a fork of the engine).
//!
//! One registered plugin, [`PolygatePlugin`], whose hooks call each concern in turn, one module
//! each: `endpoints` (GraphiQL, `/ready`, `/metrics`, request timing), `auth` (sign-in, rate
//! limits, identity headers), `cache` (the response cache and its invalidation), `transport`
//! (in-process or guarded HTTP per subgraph call) and `errors` (stable error codes).
//!
//! Why one plugin rather than one per concern: the engine calls every hook of every registered
//! plugin on every request, each call a boxed future, whether the plugin uses that hook or not.
//! Four plugins made about 44 such calls per request and one makes 11; profiled under the
//! gateway bench, the dispatch alone was about 6 µs of CPU per request with four.

pub mod auth;
pub mod cache;
pub mod endpoints;
pub mod errors;
pub mod graphiql;
pub mod transport;

use std::sync::Arc;

use hive_router::PluginRegistry;
use hive_router::async_trait;
use hive_router::executor::hooks::on_execute::{
    OnExecuteResponse, OnExecuteStartHookPayload, OnExecuteStartHookResult,
};
use hive_router::executor::hooks::on_graphql_error::{
    OnGraphQLErrorHookPayload, OnGraphQLErrorHookResult,
};
use hive_router::executor::hooks::on_graphql_params::{
    OnGraphQLParamsStartHookPayload, OnGraphQLParamsStartHookResult,
};
use hive_router::executor::hooks::on_http_request::{
    OnHttpRequestHookFuture, OnHttpRequestHookPayload,
};
use hive_router::executor::hooks::on_plugin_init::{OnPluginInitPayload, OnPluginInitResult};
use hive_router::executor::hooks::on_subgraph_execute::{
    OnSubgraphExecuteStartHookPayload, OnSubgraphExecuteStartHookResult,
};
use hive_router::executor::hooks::on_supergraph_load::{
    OnSupergraphLoadStartHookPayload, OnSupergraphLoadStartHookResult,
};
use hive_router::executor::plugin_trait::{EndHookPayload, RouterPlugin, StartHookPayload};

use crate::state::{self, GatewayState};

pub struct PolygatePlugin {
    state: Arc<GatewayState>,
    endpoints: endpoints::Endpoints,
    transport: transport::Transport,
    persisted_queries: cache::apq::PersistedQueries,
}

/// Memory for automatic persisted queries (a typical query is 0.5–2 KiB).
const PERSISTED_QUERY_BYTES: u64 = 8 * 1024 * 1024;

impl PolygatePlugin {
    /// The plugin's name as the router config lists it.
    pub const NAME: &'static str = "polygate";
}

pub fn registry() -> PluginRegistry {
    PluginRegistry::new().register::<PolygatePlugin>()
}

#[async_trait]
impl RouterPlugin for PolygatePlugin {
    type Config = ();

    fn plugin_name() -> &'static str {
        Self::NAME
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let state = state::get()?;
        crate::serve::forget_router_config();
        payload.initialize_plugin(Self {
            endpoints: endpoints::Endpoints::new(state.clone()),
            transport: transport::Transport::new(state.clone()),
            persisted_queries: cache::apq::PersistedQueries::new(PERSISTED_QUERY_BYTES),
            state,
        })
    }

    /// Our endpoints answer first; every other request is timed, and signed in by `auth`.
    fn on_http_request<'req>(
        &'req self,
        mut payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            if let Some(response) = self.endpoints.answer(&payload.router_http_request).await {
                return payload.end_with_response(response);
            }
            let timer = endpoints::RequestTimer::start(payload.router_http_request.path());
            if let Some(refusal) = auth::admit(&self.state, &mut payload).await {
                timer.finish(refusal.status().as_u16(), None);
                return payload.end_with_response(refusal);
            }
            let facts = self.state.cache.as_ref().map(|cache| {
                let request = &payload.router_http_request;
                let debug = cache.debug_allowed(
                    request
                        .headers()
                        .get(cache::debug::CACHE_DEBUG_HEADER)
                        .and_then(|v| v.to_str().ok()),
                    payload.context.get_ref::<polygate_kit::Viewer>().is_some(),
                );
                if debug {
                    payload.context.insert(cache::debug::DebugRequested);
                }
                cache::RequestFacts {
                    debug,
                    is_get: request.method() == ntex::http::Method::GET,
                    if_none_match: request
                        .headers()
                        .get("if-none-match")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned),
                }
            });
            payload.on_end(move |end| {
                let end = match (&self.state.cache, &facts) {
                    (Some(cache), Some(facts)) => {
                        let context = end.context;
                        end.map_response(|response| cache.after_response(context, facts, response))
                    }
                    _ => end,
                };
                let operation = end.context.get_ref::<crate::operations::OperationLabel>();
                timer.finish(
                    end.response.response().status().as_u16(),
                    operation.as_deref().map(|l| l.0.as_str()),
                );
                drop(operation);
                end.proceed()
            })
        })
    }

    async fn on_graphql_params<'exec>(
        &'exec self,
        payload: OnGraphQLParamsStartHookPayload<'exec>,
    ) -> OnGraphQLParamsStartHookResult<'exec> {
        // A request identical to one the cache answered is answered before it is even decoded.
        if let Some(cache) = &self.state.cache
            && let Some(response) =
                cache.answer_early(payload.context, payload.router_http_request, &payload.body)
        {
            return payload.end_with_response(response);
        }
        payload.on_end(move |mut end| {
            let label = self
                .endpoints
                .operation_label(end.graphql_params.operation_name.as_deref());
            end.context.insert(label);
            match self.persisted_queries.resolve(&mut end.graphql_params) {
                Err(error) => return end.end_with_graphql_error(*error, http::StatusCode::OK),
                // A registration must reach this hook each time it is sent (this instance may
                // have evicted the query since), so it is never answered early.
                Ok(cache::apq::Resolution::Registered) => {
                    if self.state.cache.is_some() {
                        cache::early::always_full_path(end.context);
                    }
                }
                Ok(_) => {}
            }
            // The cache works an operation out once per text (`cache/prepared.rs`).
            if self.state.cache.is_some()
                && let Some(query) = end.graphql_params.query.as_deref()
            {
                let text = cache::prepared::OperationText::of(
                    query,
                    end.graphql_params.operation_name.as_deref(),
                );
                end.context.insert(text);
            }
            end.proceed()
        })
    }

    /// A cached query is answered here, before any subgraph is called.
    async fn on_execute<'exec>(
        &'exec self,
        payload: OnExecuteStartHookPayload<'exec>,
    ) -> OnExecuteStartHookResult<'exec> {
        if let Some(cache) = &self.state.cache
            && let Some(hit) = cache
                .before_execute(
                    payload.context,
                    payload.operation_for_plan,
                    payload.variable_values.as_ref(),
                )
                .await
        {
            return payload.end_with_response(OnExecuteResponse::Output(hit));
        }
        payload.proceed()
    }

    async fn on_subgraph_execute<'exec>(
        &'exec self,
        mut payload: OnSubgraphExecuteStartHookPayload<'exec>,
    ) -> OnSubgraphExecuteStartHookResult<'exec> {
        auth::forward_viewer(&mut payload);
        self.transport.choose_executor(&mut payload);
        payload.proceed()
    }

    /// The cache follows the served supergraph's types, keys and `@cacheControl`.
    fn on_supergraph_reload<'exec>(
        &'exec self,
        payload: OnSupergraphLoadStartHookPayload,
    ) -> OnSupergraphLoadStartHookResult<'exec> {
        if let Some(cache) = &self.state.cache {
            cache.supergraph_loaded(&payload.new_ast);
        }
        payload.proceed()
    }

    fn on_graphql_error<'req>(
        &'req self,
        mut payload: OnGraphQLErrorHookPayload<'req>,
    ) -> OnGraphQLErrorHookResult<'req> {
        errors::give_stable_code(&mut payload.error);
        payload.proceed()
    }
}
