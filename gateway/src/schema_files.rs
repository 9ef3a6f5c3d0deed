//! `polygate schema export|check`: each subgraph's SDL comes from its code and is committed in
//! `schema/<name>.graphql`; `check` fails when a committed file differs from the code.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use polygate_kit::AnySubgraph;

/// Every subgraph of `registry`, with the SDL its code produces.
pub fn subgraph_sdls(registry: &[Arc<dyn AnySubgraph>]) -> Vec<(&'static str, String)> {
    registry.iter().map(|s| (s.name(), s.sdl())).collect()
}

fn file_for(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.graphql"))
}

fn normalized(sdl: &str) -> String {
    format!("{}\n", sdl.trim_end())
}

pub fn export(dir: &Path, registry: &[Arc<dyn AnySubgraph>]) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    subgraph_sdls(registry)
        .into_iter()
        .map(|(name, sdl)| {
            let path = file_for(dir, name);
            std::fs::write(&path, normalized(&sdl))
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(path)
        })
        .collect()
}

/// The subgraphs whose committed SDL differs from the code (missing files count).
pub fn drifted(dir: &Path, registry: &[Arc<dyn AnySubgraph>]) -> Vec<&'static str> {
    subgraph_sdls(registry)
        .into_iter()
        .filter(|(name, sdl)| {
            std::fs::read_to_string(file_for(dir, name)).ok() != Some(normalized(sdl))
        })
        .map(|(name, _)| name)
        .collect()
}
