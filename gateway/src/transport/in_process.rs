//! Runs a subgraph's async-graphql schema in the gateway's process: no socket, no HTTP framing.
//!
//! The request is the exact body the HTTP executor would send (built by Hive Router's own
//! `build_request_body`), so both transports see identical GraphQL. Execution happens on the
//! shared store runtime, not on the ntex worker: store pools belong to the tokio runtime that
//! created them. Identical overlapping queries share one execution, as the router does for HTTP
//! subgraphs (`inflight`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use hive_router::executor::executors::common::{SubgraphExecutionRequest, SubgraphExecutor};
use hive_router::executor::executors::error::SubgraphExecutorError;
use hive_router::executor::executors::http::build_request_body;
use hive_router::executor::plugin_context::PluginRequestState;
use hive_router::executor::response::subgraph_response::SubgraphResponse;
use http::Uri;
use polygate_kit::{SubgraphSchema, Viewer};

use super::inflight::{self, InFlight, Outcome};
use super::unavailable;
use crate::metrics::SubgraphCallTimer;

pub struct InProcessExecutor {
    name: String,
    endpoint: Uri,
    schema: Arc<dyn SubgraphSchema>,
    runtime: tokio::runtime::Handle,
    inflight: InFlight,
}

impl InProcessExecutor {
    pub fn new(
        name: &str,
        schema: Arc<dyn SubgraphSchema>,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        Self {
            name: name.to_owned(),
            endpoint: Uri::from_static("inprocess://subgraph"),
            schema,
            runtime,
            inflight: InFlight::default(),
        }
    }

    /// Executes one GraphQL request body on the store runtime; returns the response body.
    fn call(
        &self,
        body: Vec<u8>,
        viewer: Option<Viewer>,
        timeout: Duration,
    ) -> impl Future<Output = Outcome> + Send + 'static {
        let schema = self.schema.clone();
        let runtime = self.runtime.clone();
        async move {
            let mut request: async_graphql::Request =
                serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            if let Some(viewer) = viewer {
                request = request.data(viewer);
            }
            let task = runtime.spawn(async move {
                let response = tokio::time::timeout(timeout, schema.execute(request)).await;
                response.map(|r| serde_json::to_vec(&r))
            });
            match task.await {
                Ok(Ok(Ok(bytes))) => Ok(Bytes::from(bytes)),
                Ok(Ok(Err(e))) => Err(e.to_string()),
                Ok(Err(_elapsed)) => Err("timed out".to_owned()),
                Err(join_error) => Err(join_error.to_string()),
            }
        }
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
        let body = match build_request_body(&execution_request) {
            Ok(body) => body,
            Err(e) => return Ok(timer.failed(unavailable(&self.name, &e))),
        };
        let headers = &execution_request.headers;
        let key = execution_request
            .dedupe
            .then(|| inflight::fingerprint(&body, headers));
        let call = self.call(
            body,
            Viewer::from_headers(headers),
            timeout.unwrap_or(Duration::from_secs(30)),
        );
        let outcome = match key {
            Some(key) => self.inflight.run(key, call).await,
            None => {
                let outcome = call.await;
                // Whether or not it succeeded: a failed write may still have committed.
                self.inflight.write_completed();
                outcome
            }
        };
        let bytes = match outcome {
            Ok(bytes) => bytes,
            Err(e) => return Ok(timer.failed(unavailable(&self.name, &e))),
        };
        let response =
            SubgraphResponse::deserialize_from_bytes(bytes, execution_request.custom_scalar_paths);
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
