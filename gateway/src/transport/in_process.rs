//! Runs a subgraph's async-graphql schema in the gateway's process: no socket, no HTTP framing.
//!
//! The request is the exact body the HTTP executor would send (built by Hive Router's own
//! `build_request_body`), so both transports see identical GraphQL. Execution happens on the
//! shared store runtime, not on the ntex worker: store pools belong to the tokio runtime that
//! created them.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use hive_router::executor::executors::common::{SubgraphExecutionRequest, SubgraphExecutor};
use hive_router::executor::executors::error::SubgraphExecutorError;
use hive_router::executor::executors::http::build_request_body;
use hive_router::executor::plugin_context::PluginRequestState;
use hive_router::executor::response::subgraph_response::SubgraphResponse;
use http::Uri;
use polygate_kit::Viewer;

use super::unavailable;
use crate::metrics::SubgraphCallTimer;

/// A subgraph schema the gateway can execute directly (every async-graphql `Schema` is one).
pub trait InProcessSchema: Send + Sync + 'static {
    fn execute(
        &self,
        request: async_graphql::Request,
    ) -> BoxFuture<'static, async_graphql::Response>;
}

impl<E: async_graphql::Executor> InProcessSchema for E {
    fn execute(
        &self,
        request: async_graphql::Request,
    ) -> BoxFuture<'static, async_graphql::Response> {
        let schema = self.clone();
        Box::pin(async move { async_graphql::Executor::execute(&schema, request).await })
    }
}

pub struct InProcessExecutor {
    name: String,
    endpoint: Uri,
    schema: Arc<dyn InProcessSchema>,
    runtime: tokio::runtime::Handle,
}

impl InProcessExecutor {
    pub fn new(
        name: &str,
        schema: Arc<dyn InProcessSchema>,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Self {
            name: name.to_owned(),
            endpoint: Uri::from_static("inprocess://subgraph"),
            schema,
            runtime,
        }
    }

    /// Parses the router's request body into an async-graphql request with the viewer attached.
    fn to_request(
        &self,
        execution_request: &SubgraphExecutionRequest<'_>,
    ) -> Result<async_graphql::Request, String> {
        let body = build_request_body(execution_request).map_err(|e| e.to_string())?;
        let mut request: async_graphql::Request =
            serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        if let Some(viewer) = Viewer::from_headers(&execution_request.headers) {
            request = request.data(viewer);
        }
        Ok(request)
    }
}

#[async_trait]
impl SubgraphExecutor for InProcessExecutor {
    fn executor_name(&self) -> &str {
        "in-process"
    }

    fn endpoint(&self) -> &Uri {
        &self.endpoint
    }

    async fn execute<'a>(
        &self,
        execution_request: SubgraphExecutionRequest<'a>,
        timeout: Option<Duration>,
        _plugin_req_state: Option<&'a PluginRequestState<'a>>,
    ) -> Result<SubgraphResponse<'static>, SubgraphExecutorError> {
        let timer = SubgraphCallTimer::start(&self.name, "in-process");
        let request = match self.to_request(&execution_request) {
            Ok(request) => request,
            Err(e) => return Ok(timer.failed(unavailable(&self.name, &e))),
        };
        let schema = self.schema.clone();
        let timeout = timeout.unwrap_or(Duration::from_secs(30));
        let task = self.runtime.spawn(async move {
            let response = tokio::time::timeout(timeout, schema.execute(request)).await;
            response.map(|r| serde_json::to_vec(&r))
        });
        let bytes = match task.await {
            Ok(Ok(Ok(bytes))) => bytes,
            Ok(Ok(Err(e))) => return Ok(timer.failed(unavailable(&self.name, &e))),
            Ok(Err(_elapsed)) => {
                return Ok(timer.failed(unavailable(&self.name, &"timed out")));
            }
            Err(join_error) => return Ok(timer.failed(unavailable(&self.name, &join_error))),
        };
        let response = SubgraphResponse::deserialize_from_bytes(
            Bytes::from(bytes),
            execution_request.custom_scalar_paths,
        );
        Ok(match response {
            Ok(response) => timer.ok(response),
            Err(e) => timer.failed(unavailable(&self.name, &e)),
        })
    }

    async fn subscribe<'a>(
        &self,
        _execution_request: SubgraphExecutionRequest<'a>,
        _timeout: Option<Duration>,
    ) -> Result<
        BoxStream<'static, Result<SubgraphResponse<'static>, SubgraphExecutorError>>,
        SubgraphExecutorError,
    > {
        // Our subgraphs define no subscriptions, so the planner never routes one here.
        Err(SubgraphExecutorError::UnsupportedContentTypeError(
            "in-process subscriptions".to_owned(),
        ))
    }
}
