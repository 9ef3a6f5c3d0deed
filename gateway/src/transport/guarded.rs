//! Wraps the router's HTTP executor for one call so a subgraph that is down, slow or broken
//! fails only its own fields (`null` + `STORE_UNAVAILABLE`) instead of the whole response, and so
//! every HTTP subgraph call is timed like an in-process one.

use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use hive_router::executor::executors::common::{
    SubgraphExecutionRequest, SubgraphExecutor, SubgraphExecutorBoxedArc,
};
use hive_router::executor::executors::error::SubgraphExecutorError;
use hive_router::executor::plugin_context::PluginRequestState;
use hive_router::executor::response::subgraph_response::SubgraphResponse;
use http::Uri;

use super::unavailable;
use crate::metrics::SubgraphCallTimer;

pub struct GuardedExecutor {
    subgraph: String,
    inner: SubgraphExecutorBoxedArc,
}

impl GuardedExecutor {
    pub fn new(subgraph: &str, inner: SubgraphExecutorBoxedArc) -> Self {
        Self {
            subgraph: subgraph.to_owned(),
            inner,
        }
    }
}

#[async_trait]
impl SubgraphExecutor for GuardedExecutor {
    fn executor_name(&self) -> &str {
        self.inner.executor_name()
    }

    fn endpoint(&self) -> &Uri {
        self.inner.endpoint()
    }

    async fn execute<'a>(
        &self,
        execution_request: SubgraphExecutionRequest<'a>,
        timeout: Option<Duration>,
        plugin_req_state: Option<&'a PluginRequestState<'a>>,
    ) -> Result<SubgraphResponse<'static>, SubgraphExecutorError> {
        let timer = SubgraphCallTimer::start(&self.subgraph, "http");
        match self
            .inner
            .execute(execution_request, timeout, plugin_req_state)
            .await
        {
            Ok(response) if response.status.is_some_and(|s| s.is_server_error()) => {
                let status = response.status.unwrap_or_default();
                Ok(timer.failed(unavailable(&self.subgraph, &format!("HTTP {status}"))))
            }
            Ok(response) => Ok(timer.ok(response)),
            Err(e) => Ok(timer.failed(unavailable(&self.subgraph, &e))),
        }
    }

    async fn subscribe<'a>(
        &self,
        execution_request: SubgraphExecutionRequest<'a>,
        timeout: Option<Duration>,
    ) -> Result<
        BoxStream<'static, Result<SubgraphResponse<'static>, SubgraphExecutorError>>,
        SubgraphExecutorError,
    > {
        self.inner.subscribe(execution_request, timeout).await
    }
}
