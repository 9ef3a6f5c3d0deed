//! Demo data for the embedded default: idempotent, so every start may call it.

use crate::wiring::Stores;

pub struct SeedReport {
    pub created: usize,
}

/// Seeds the commerce store this process holds; nothing when commerce runs elsewhere.
pub async fn demo(stores: &Stores) -> anyhow::Result<SeedReport> {
    let Some(commerce) = &stores.commerce else {
        return Ok(SeedReport { created: 0 });
    };
    let hasher = polygate_commerce::PasswordHasher::default();
    let report = polygate_commerce::seed_demo(commerce.as_ref(), &hasher).await?;
    Ok(SeedReport {
        created: report.created.len(),
    })
}
