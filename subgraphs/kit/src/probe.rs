//! Readiness: each store says whether it can be reached right now.

use async_trait::async_trait;

#[async_trait]
pub trait Probe: Send + Sync {
    /// A short name for logs and the `/ready` body, e.g. `commerce/postgres`.
    fn name(&self) -> String;
    /// `Ok` when the store answers a trivial request within its timeout.
    async fn check(&self) -> Result<(), String>;
}

/// Runs every probe concurrently; returns `(name, error)` for each one that failed.
pub async fn failing(probes: &[std::sync::Arc<dyn Probe>]) -> Vec<(String, String)> {
    let checks = probes.iter().map(|p| async move {
        let res = tokio::time::timeout(std::time::Duration::from_secs(2), p.check()).await;
        match res {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some((p.name(), e)),
            Err(_) => Some((p.name(), "timed out".to_owned())),
        }
    });
    futures::future::join_all(checks)
        .await
        .into_iter()
        .flatten()
        .collect()
}
