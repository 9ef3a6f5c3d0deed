//! Readiness probe over the search store's `ping`.

use std::sync::Arc;

use async_trait::async_trait;
use polygate_kit::Probe;

use crate::store::SearchStore;

struct StoreProbe(Arc<dyn SearchStore>);

/// The store as a readiness probe named `search/<engine>`. The model is not probed: a subgraph
/// without it still serves documents, and `polygate_search_model_loaded` tells operators.
pub fn probe(store: Arc<dyn SearchStore>) -> Arc<dyn Probe> {
    Arc::new(StoreProbe(store))
}

#[async_trait]
impl Probe for StoreProbe {
    fn name(&self) -> String {
        format!("{}/{}", crate::NAME, self.0.engine())
    }

    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}
