//! Serves one subgraph on its own over axum: `/graphql`, `/health`, `/ready`, `/metrics`.
//!
//! The same async-graphql schema runs inside the gateway in embedded mode; this is the service
//! mode of the same code. [`router`] builds the app so tests can bind it to port 0.

use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{
    Router,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode},
    response::{Html, IntoResponse},
    routing::get,
};

use crate::{
    auth::Viewer, capabilities::Capabilities, probe::Probe, remote_capabilities,
    subgraph::SubgraphSchema,
};

/// Largest request body a subgraph accepts; the gateway's own limit is lower.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

struct AppState {
    schema: Arc<dyn SubgraphSchema>,
    probes: Vec<Arc<dyn Probe>>,
}

/// The axum app for one subgraph, with the `/capabilities/…` routes of what it provides.
pub fn router(
    schema: Arc<dyn SubgraphSchema>,
    probes: Vec<Arc<dyn Probe>>,
    provided: &Capabilities,
) -> Router {
    let state = Arc::new(AppState { schema, probes });
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/health", get(|| async { "ok" }))
        .route("/ready", get(ready))
        .route("/metrics", get(|| async { crate::metrics::render() }))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
        .merge(remote_capabilities::routes(provided))
}

async fn graphql(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let mut request = request.into_inner();
    if let Some(viewer) = Viewer::from_headers(&headers) {
        request = request.data(viewer);
    }
    state.schema.execute(request).await.into()
}

async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

async fn ready(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let failing = crate::probe::failing(&state.probes).await;
    if failing.is_empty() {
        (StatusCode::OK, "ready".to_owned())
    } else {
        let body = failing
            .iter()
            .map(|(name, err)| format!("{name}: {err}"))
            .collect::<Vec<_>>()
            .join("\n");
        (StatusCode::SERVICE_UNAVAILABLE, body)
    }
}

/// Binds `addr`, prints the URL, and serves until Ctrl-C / SIGTERM.
pub async fn serve(app: Router, addr: SocketAddr, name: &str) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tracing::info!(subgraph = name, "serving on http://{local}/graphql");
    println!("{name} subgraph listening on http://{local}/graphql");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
