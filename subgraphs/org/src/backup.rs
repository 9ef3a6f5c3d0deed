//! Logical backups of the org: the whole chart as JSON, written and read by plain Cypher or SQL
//! through the port (`export` / `import`), so the same file restores into Neo4j, Aura or the
//! embedded store. [`drill`] is the restore drill the test command runs: export, wipe, restore,
//! then compare counts and a traversal's answer.
//!
//! Non-obvious: APOC's export procedures are not on every server (Aura Free lacks some, the test
//! server has none), and `neo4j-admin database dump` needs the database stopped; a chart export
//! needs neither, and stays the unit the seed and the benchmark already load. What it does not
//! carry: the org version (a restore starts again at 0, so an expected version taken before the
//! restore is refused as stale unless it was 0) and records of past department merges.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::domain::{Depth, EmployeeId, OrgChart};
use crate::store::{OrgStore, StoreError};

/// The store `polygate-org export` / `import` name: a Neo4j URL, signed in with the user,
/// password and database of `[subgraphs.org]` (`POLYGATE_SUBGRAPHS__ORG__PASSWORD`), or
/// `sqlite:PATH`.
pub async fn open(
    store: &str,
    configured: &crate::OrgSettings,
) -> anyhow::Result<Arc<dyn OrgStore>> {
    if let Some(path) = store.strip_prefix("sqlite:") {
        return Ok(Arc::new(
            crate::SqliteStore::open(std::path::Path::new(path)).await?,
        ));
    }
    let mut settings = crate::store::neo4j::Neo4jSettings::local(store);
    (settings.user, settings.password) = configured.credentials().await?;
    settings.database = configured.database.clone();
    Ok(Arc::new(crate::Neo4jStore::connect(&settings).await?))
}

/// What a drill found before the wipe and after the restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub departments: usize,
    pub employees: usize,
    pub reporting_lines: usize,
    /// Everyone below the root, as `(depth, id)`.
    pub below_root: Vec<(u32, String)>,
}

/// The drill's measurements, for its printed report.
#[derive(Debug, Clone)]
pub struct DrillReport {
    pub before: Snapshot,
    pub after: Snapshot,
    pub bytes: usize,
    pub export: Duration,
    pub wipe: Duration,
    pub restore: Duration,
}

/// Counts and the root's whole team, read through the port.
pub async fn snapshot(store: &dyn OrgStore) -> Result<Snapshot, StoreError> {
    let chart = store.export().await?;
    let roots: Vec<EmployeeId> = chart
        .employees
        .iter()
        .filter(|e| e.manager.is_none())
        .map(|e| e.id.clone())
        .collect();
    let mut below_root = Vec::new();
    for root in &roots {
        let mut after = None;
        loop {
            let page = store
                .subordinates(
                    root,
                    Depth::UNLIMITED,
                    crate::store::MAX_PAGE,
                    after.as_ref(),
                )
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(crate::domain::SubordinateCursor::after(last));
            below_root.extend(page.iter().map(|s| (s.depth, s.employee.id.to_string())));
        }
    }
    below_root.sort();
    Ok(Snapshot {
        departments: chart.departments.len(),
        employees: chart.employees.len(),
        reporting_lines: chart
            .employees
            .iter()
            .filter(|e| e.manager.is_some())
            .count(),
        below_root,
    })
}

/// Export to `file`, `wipe` everything, restore from `file`, and compare.
pub async fn drill<W, F>(
    store: &dyn OrgStore,
    file: &std::path::Path,
    wipe: W,
) -> anyhow::Result<DrillReport>
where
    W: FnOnce() -> F,
    F: std::future::Future<Output = Result<(), StoreError>>,
{
    let before = snapshot(store).await?;
    let started = Instant::now();
    let chart = store.export().await?;
    let json = serde_json::to_vec(&chart)?;
    std::fs::write(file, &json)?;
    let export = started.elapsed();

    let started = Instant::now();
    wipe().await?;
    let wipe_took = started.elapsed();
    anyhow::ensure!(
        store.export().await?.employees.is_empty(),
        "the wipe left people behind"
    );

    let started = Instant::now();
    let restored: OrgChart = serde_json::from_slice(&std::fs::read(file)?)?;
    store.import(&restored).await?;
    let restore = started.elapsed();
    let after = snapshot(store).await?;
    Ok(DrillReport {
        before,
        after,
        bytes: json.len(),
        export,
        wipe: wipe_took,
        restore,
    })
}
