//! Chooses the transport per subgraph fetch: our in-process executor for subgraphs configured to
//! run here, the router's HTTP executor (guarded) for every other one — including subgraphs of
//! any other team named in a foreign supergraph.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use hive_router::executor::executors::common::SubgraphExecutorBoxedArc;
use hive_router::executor::hooks::on_subgraph_execute::OnSubgraphExecuteStartHookPayload;

use crate::plugins::cache::entity::EntityExecutor;
use crate::state::GatewayState;
use crate::transport::guarded::GuardedExecutor;

pub struct Transport {
    state: Arc<GatewayState>,
    /// Per HTTP subgraph: the engine's executor and our guard around it, built once rather than
    /// per call. A supergraph reload brings new executors, and a guard around the old one is
    /// replaced on first use.
    guarded: RwLock<HashMap<String, (SubgraphExecutorBoxedArc, SubgraphExecutorBoxedArc)>>,
}

impl Transport {
    pub fn new(state: Arc<GatewayState>) -> Self {
        Self {
            state,
            guarded: RwLock::default(),
        }
    }

    pub fn choose_executor(&self, payload: &mut OnSubgraphExecuteStartHookPayload<'_>) {
        let chosen = match self.state.in_process.get(payload.subgraph_name) {
            Some(in_process) => in_process.clone(),
            None => self.guard(payload.subgraph_name, &payload.executor),
        };
        payload.executor = match &self.state.cache {
            // The entity cache answers what it holds and hands the rest to the chosen one.
            Some(cache) if cache.entities_enabled() => {
                EntityExecutor::wrap(payload.subgraph_name, chosen, cache.clone())
            }
            _ => chosen,
        };
    }

    fn guard(&self, subgraph: &str, engine: &SubgraphExecutorBoxedArc) -> SubgraphExecutorBoxedArc {
        let known = self.guarded.read().unwrap_or_else(|p| p.into_inner());
        if let Some((inner, guard)) = known.get(subgraph)
            && Arc::ptr_eq(inner, engine)
        {
            return guard.clone();
        }
        drop(known);
        let guard: SubgraphExecutorBoxedArc =
            Arc::new(Box::new(GuardedExecutor::new(subgraph, engine.clone())));
        self.guarded
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(subgraph.to_owned(), (engine.clone(), guard.clone()));
        guard
    }
}
