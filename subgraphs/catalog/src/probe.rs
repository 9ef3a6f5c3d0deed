//! The store as a readiness probe named `catalog/<engine>`.

use std::sync::Arc;

use async_trait::async_trait;

use crate::store::CatalogStore;

struct StoreProbe(Arc<dyn CatalogStore>);

#[async_trait]
impl polygate_kit::Probe for StoreProbe {
    fn name(&self) -> String {
        format!("{}/{}", crate::NAME, self.0.engine())
    }

    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

pub fn probe(store: Arc<dyn CatalogStore>) -> Arc<dyn polygate_kit::Probe> {
    Arc::new(StoreProbe(store))
}
