//! The endpoints polygate adds beside Hive Router's `/graphql` and `/health`: GraphiQL at `/`,
//! `/ready` (every configured store and remote subgraph answers) and `/metrics` (Prometheus).
//! It also times every client request, labelled with its operation name (bounded).

use std::sync::Arc;
use std::time::Instant;

use async_graphql::http::GraphiQLSource;
use hive_router::async_trait;
use hive_router::executor::hooks::on_graphql_params::{
    OnGraphQLParamsStartHookPayload, OnGraphQLParamsStartHookResult,
};
use hive_router::executor::hooks::on_http_request::{
    OnHttpRequestHookFuture, OnHttpRequestHookPayload,
};
use hive_router::executor::hooks::on_plugin_init::{OnPluginInitPayload, OnPluginInitResult};
use hive_router::executor::plugin_trait::{EndHookPayload, RouterPlugin, StartHookPayload};
use ntex::http::{Method, Response, StatusCode};

use crate::metrics::HTTP_REQUEST_SECONDS;
use crate::operations::{OperationLabel, OperationLabels};
use crate::state::{self, GatewayState};

pub struct EndpointsPlugin {
    state: Arc<GatewayState>,
    graphiql_html: String,
    operations: OperationLabels,
}

impl EndpointsPlugin {
    pub const NAME: &'static str = "polygate_endpoints";
}

fn text(status: StatusCode, content_type: &str, body: String) -> Response {
    Response::build(status)
        .content_type(content_type)
        .body(body)
}

/// `2xx`, `4xx`, …: a fixed label set, with no allocation per request.
fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

#[async_trait]
impl RouterPlugin for EndpointsPlugin {
    type Config = ();

    fn plugin_name() -> &'static str {
        Self::NAME
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let state = state::get()?;
        let graphiql_html = GraphiQLSource::build()
            .endpoint("/graphql")
            .title("polygate")
            .finish();
        payload.initialize_plugin(Self {
            state,
            graphiql_html,
            operations: OperationLabels::default(),
        })
    }

    async fn on_graphql_params<'exec>(
        &'exec self,
        payload: OnGraphQLParamsStartHookPayload<'exec>,
    ) -> OnGraphQLParamsStartHookResult<'exec> {
        payload.on_end(move |end| {
            let label = self
                .operations
                .label(end.graphql_params.operation_name.as_deref());
            end.context.insert(OperationLabel(label));
            end.proceed()
        })
    }

    fn on_http_request<'req>(
        &'req self,
        payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            let request = &payload.router_http_request;
            let is_get = request.method() == Method::GET;
            match request.path() {
                "/" if is_get && self.state.graphiql => {
                    let html = self.graphiql_html.clone();
                    return payload.end_with_response(text(
                        StatusCode::OK,
                        "text/html; charset=utf-8",
                        html,
                    ));
                }
                "/" if is_get => {
                    return payload.end_with_response(text(
                        StatusCode::NOT_FOUND,
                        "text/plain",
                        "GraphiQL is switched off; POST queries to /graphql\n".to_owned(),
                    ));
                }
                "/ready" => {
                    let probes = self.state.probes.clone();
                    let failing = self
                        .state
                        .runtime
                        .spawn(async move { polygate_kit::probe::failing(&probes).await })
                        .await
                        .unwrap_or_else(|e| vec![("gateway".to_owned(), e.to_string())]);
                    let response = if failing.is_empty() {
                        text(StatusCode::OK, "text/plain", "ready\n".to_owned())
                    } else {
                        let body: String = failing
                            .iter()
                            .map(|(name, err)| format!("{name}: {err}\n"))
                            .collect();
                        text(StatusCode::SERVICE_UNAVAILABLE, "text/plain", body)
                    };
                    return payload.end_with_response(response);
                }
                "/metrics" if is_get => {
                    return payload.end_with_response(text(
                        StatusCode::OK,
                        "text/plain; version=0.0.4",
                        polygate_kit::metrics::render(),
                    ));
                }
                _ => {}
            }
            let path = match request.path() {
                "/graphql" => "/graphql",
                "/health" => "/health",
                _ => "other",
            };
            let started = Instant::now();
            payload.on_end(move |end| {
                let status = status_class(end.response.response().status().as_u16());
                let operation = end.context.get_ref::<OperationLabel>();
                let operation = operation.as_ref().map_or("none", |l| l.0.as_str());
                HTTP_REQUEST_SECONDS
                    .with_label_values(&[path, status, operation])
                    .observe(started.elapsed().as_secs_f64());
                end.proceed()
            })
        })
    }
}
