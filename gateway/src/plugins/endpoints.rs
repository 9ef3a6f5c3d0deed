//! The endpoints polygate adds beside Hive Router's `/graphql` and `/health`: GraphiQL at `/` (with
//! its bundles at `/graphiql/…`), `/ready` (every configured store and remote subgraph answers)
//! and `/metrics` (Prometheus).
//! It also times every other request, labelled with its operation name (bounded).

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use ntex::http::{Method, Response, StatusCode};
use ntex::web::{DefaultError, WebRequest};

use crate::metrics::HTTP_REQUEST_SECONDS;
use crate::operations::{OperationLabel, OperationLabels};
use crate::state::GatewayState;

pub struct Endpoints {
    state: Arc<GatewayState>,
    /// Rendered on the first `GET /`.
    graphiql_html: OnceLock<String>,
    operations: OperationLabels,
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

impl Endpoints {
    pub fn new(state: Arc<GatewayState>) -> Self {
        Self {
            state,
            graphiql_html: OnceLock::new(),
            operations: OperationLabels::default(),
        }
    }

    /// The response when `request` is for one of our endpoints.
    pub async fn answer(&self, request: &WebRequest<DefaultError>) -> Option<Response> {
        let is_get = request.method() == Method::GET;
        match request.path() {
            "/" if is_get && self.state.graphiql => {
                let html = self.graphiql_html.get_or_init(super::graphiql::page);
                Some(text(
                    StatusCode::OK,
                    "text/html; charset=utf-8",
                    html.clone(),
                ))
            }
            path if is_get && self.state.graphiql && path.starts_with("/graphiql/") => {
                Some(match super::graphiql::asset(path) {
                    Some(asset) => Response::build(StatusCode::OK)
                        .content_type(asset.content_type)
                        .header("cache-control", "public, max-age=31536000, immutable")
                        .body(asset.body),
                    None => text(
                        StatusCode::NOT_FOUND,
                        "text/plain",
                        "not found\n".to_owned(),
                    ),
                })
            }
            "/" if is_get => Some(text(
                StatusCode::NOT_FOUND,
                "text/plain",
                "GraphiQL is switched off; POST queries to /graphql\n".to_owned(),
            )),
            "/ready" => Some(self.ready().await),
            "/metrics" if is_get => Some(text(
                StatusCode::OK,
                "text/plain; version=0.0.4",
                polygate_kit::metrics::render(),
            )),
            _ => None,
        }
    }

    async fn ready(&self) -> Response {
        let probes = self.state.probes.clone();
        let failing = self
            .state
            .runtime
            .spawn(async move { polygate_kit::probe::failing(&probes).await })
            .await
            .unwrap_or_else(|e| vec![("gateway".to_owned(), e.to_string())]);
        if failing.is_empty() {
            return text(StatusCode::OK, "text/plain", "ready\n".to_owned());
        }
        let body: String = failing
            .iter()
            .map(|(name, err)| format!("{name}: {err}\n"))
            .collect();
        text(StatusCode::SERVICE_UNAVAILABLE, "text/plain", body)
    }

    /// The label of an operation for the request metrics, kept in the request's context.
    pub fn operation_label(&self, operation_name: Option<&str>) -> OperationLabel {
        OperationLabel(self.operations.label(operation_name))
    }
}

/// Times one request into `polygate_http_request_seconds`.
pub struct RequestTimer {
    path: &'static str,
    started: Instant,
}

impl RequestTimer {
    pub fn start(path: &str) -> Self {
        let path = match path {
            "/graphql" => "/graphql",
            "/health" => "/health",
            _ => "other",
        };
        Self {
            path,
            started: Instant::now(),
        }
    }

    pub fn finish(self, status: u16, operation: Option<&str>) {
        HTTP_REQUEST_SECONDS
            .with_label_values(&[self.path, status_class(status), operation.unwrap_or("none")])
            .observe(self.started.elapsed().as_secs_f64());
    }
}
