//! Readiness probe over the commerce store's `ping`.

use std::sync::Arc;

use async_trait::async_trait;
use polygate_kit::Probe;

use crate::store::CommerceStore;

pub struct StoreProbe(pub Arc<dyn CommerceStore>);

#[async_trait]
impl Probe for StoreProbe {
    fn name(&self) -> String {
        format!("{}/{}", crate::NAME, self.0.engine())
    }

    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}
