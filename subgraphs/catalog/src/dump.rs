//! Dump and restore with the driver (the `mongodump` / `mongorestore` equivalent, and the same
//! for the embedded store): one JSON-lines file per collection, the stored documents exactly as
//! they are (old schema versions included), plus a manifest with the counts.
//!
//! Non-obvious: documents are read in `_id` order in pages (keyset, never `skip`), so a dump of a
//! live store is a consistent copy of each *document* but not a point-in-time snapshot of the
//! whole catalog; Atlas's cloud backup (snapshots + oplog point-in-time restore) is the
//! production backup, this is the portable copy and the local drill (README, "Backups").

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::store::{CatalogStore, Collection};

/// Documents per page read or written.
pub const PAGE: usize = 500;

/// What a dump or restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `(collection, documents)`.
    pub counts: Vec<(&'static str, usize)>,
    pub took: Duration,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let counts: Vec<String> = self
            .counts
            .iter()
            .map(|(c, n)| format!("{n} {c}"))
            .collect();
        write!(f, "{} in {} ms", counts.join(", "), self.took.as_millis())
    }
}

/// Writes every collection of `store` to `dir` (created if need be).
pub async fn dump(store: &dyn CatalogStore, dir: &Path) -> anyhow::Result<Report> {
    let started = Instant::now();
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut counts = Vec::new();
    for collection in Collection::ALL {
        let path = dir.join(format!("{}.jsonl", collection.name()));
        let mut out = BufWriter::new(std::fs::File::create(&path)?);
        let mut after: Option<String> = None;
        let mut n = 0;
        loop {
            let page = store
                .export_documents(collection, after.as_deref(), PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(
                last.get("_id")
                    .and_then(|v| v.as_str())
                    .context("a document without a string _id")?
                    .to_owned(),
            );
            for doc in &page {
                serde_json::to_writer(&mut out, doc)?;
                out.write_all(b"\n")?;
            }
            n += page.len();
        }
        out.flush()?;
        counts.push((collection.name(), n));
    }
    let manifest = serde_json::json!({
        "format": "polygate-catalog-dump/1",
        "engine": store.engine(),
        "counts": counts.iter().map(|(c, n)| (c.to_string(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
    });
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest)?,
    )?;
    Ok(Report {
        counts,
        took: started.elapsed(),
    })
}

/// Loads a dump written by [`dump`] into `store` (documents with the same ids are replaced) and
/// checks the counts against the manifest.
pub async fn restore(store: &dyn CatalogStore, dir: &Path) -> anyhow::Result<Report> {
    let started = Instant::now();
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("manifest.json")).context("the dump has no manifest.json")?,
    )?;
    let mut counts = Vec::new();
    for collection in Collection::ALL {
        let path = dir.join(format!("{}.jsonl", collection.name()));
        let file = std::fs::File::open(&path).with_context(|| format!("{}", path.display()))?;
        let mut batch = Vec::with_capacity(PAGE);
        let mut n = 0;
        for line in std::io::BufReader::new(file).lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            batch.push(serde_json::from_str(&line)?);
            if batch.len() == PAGE {
                n += store
                    .import_documents(collection, std::mem::take(&mut batch))
                    .await?;
            }
        }
        if !batch.is_empty() {
            n += store.import_documents(collection, batch).await?;
        }
        let expected = manifest["counts"][collection.name()].as_u64().unwrap_or(0) as usize;
        anyhow::ensure!(
            n == expected,
            "{}: restored {n} documents, the manifest says {expected}",
            collection.name()
        );
        counts.push((collection.name(), n));
    }
    Ok(Report {
        counts,
        took: started.elapsed(),
    })
}
