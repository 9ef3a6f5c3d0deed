//! Demo data: every opened subgraph's seed, idempotent, so every start may call it.

use crate::wiring::OpenedGraph;

/// One subgraph's seeding.
pub struct Seeded {
    pub subgraph: &'static str,
    pub report: polygate_kit::SeedReport,
}

/// Seeds the subgraphs this process opened, in registry order; with `embedded_only`, only those
/// whose store is the embedded one (what `polygate serve` does on start).
pub async fn demo(graph: &OpenedGraph, embedded_only: bool) -> anyhow::Result<Vec<Seeded>> {
    let mut seeded = Vec::new();
    for subgraph in &graph.subgraphs {
        let Some(seed) = subgraph.opened.as_ref().and_then(|o| o.seed.as_ref()) else {
            continue;
        };
        if embedded_only && !subgraph.embedded {
            continue;
        }
        let report = seed
            .seed()
            .await
            .map_err(|e| anyhow::anyhow!("subgraphs.{}: demo seed failed: {e:#}", subgraph.name))?;
        seeded.push(Seeded {
            subgraph: subgraph.name,
            report,
        });
    }
    Ok(seeded)
}

/// `commerce: 62 users, …` for what was created (empty when everything was there already).
pub fn summary(seeded: &[Seeded]) -> String {
    seeded
        .iter()
        .filter(|s| s.report.created > 0)
        .map(|s| format!("{}: {} {}", s.subgraph, s.report.created, s.report.what))
        .collect::<Vec<_>>()
        .join(", ")
}
