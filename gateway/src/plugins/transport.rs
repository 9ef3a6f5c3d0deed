//! Chooses the transport per subgraph fetch: our in-process executor for subgraphs configured to
//! run here, the router's HTTP executor (guarded) for every other one — including subgraphs of
//! any other team named in a foreign supergraph.

use std::sync::Arc;

use hive_router::async_trait;
use hive_router::executor::hooks::on_plugin_init::{OnPluginInitPayload, OnPluginInitResult};
use hive_router::executor::hooks::on_subgraph_execute::{
    OnSubgraphExecuteStartHookPayload, OnSubgraphExecuteStartHookResult,
};
use hive_router::executor::plugin_trait::{RouterPlugin, StartHookPayload};

use crate::state::{self, GatewayState};
use crate::transport::guarded::GuardedExecutor;

pub struct TransportPlugin {
    state: Arc<GatewayState>,
}

impl TransportPlugin {
    pub const NAME: &'static str = "polygate_transport";
}

#[async_trait]
impl RouterPlugin for TransportPlugin {
    type Config = ();

    fn plugin_name() -> &'static str {
        Self::NAME
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let state = state::get()?;
        payload.initialize_plugin(Self { state })
    }

    async fn on_subgraph_execute<'exec>(
        &'exec self,
        mut payload: OnSubgraphExecuteStartHookPayload<'exec>,
    ) -> OnSubgraphExecuteStartHookResult<'exec> {
        payload.executor = match self.state.in_process.get(payload.subgraph_name) {
            Some(in_process) => in_process.clone(),
            None => Arc::new(Box::new(GuardedExecutor::new(
                payload.subgraph_name,
                payload.executor.clone(),
            ))),
        };
        payload.proceed()
    }
}
