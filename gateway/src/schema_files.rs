//! `polygate schema export|check`: each subgraph's SDL comes from its code and is committed in
//! `schema/<name>.graphql`; `check` fails when a committed file differs from the code.
//!
//! Only a subgraph this build links has code to export or check against: a build without some
//! subgraphs' features (the gateway-only build) exports what it links and says which files it
//! could not check, rather than passing them ([`not_linked`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use polygate_kit::AnySubgraph;

/// Every subgraph of `registry` this build links, with the SDL its code produces.
pub fn subgraph_sdls(registry: &[Arc<dyn AnySubgraph>]) -> Vec<(&'static str, String)> {
    registry
        .iter()
        .filter(|s| s.linked())
        .map(|s| (s.name(), s.sdl()))
        .collect()
}

/// The subgraphs of `registry` this build does not link: their files can be neither exported nor
/// checked here.
pub fn not_linked(registry: &[Arc<dyn AnySubgraph>]) -> Vec<&'static str> {
    registry
        .iter()
        .filter(|s| !s.linked())
        .map(|s| s.name())
        .collect()
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

/// The linked subgraphs whose committed SDL differs from the code (missing files count).
pub fn drifted(dir: &Path, registry: &[Arc<dyn AnySubgraph>]) -> Vec<&'static str> {
    subgraph_sdls(registry)
        .into_iter()
        .filter(|(name, sdl)| {
            std::fs::read_to_string(file_for(dir, name)).ok() != Some(normalized(sdl))
        })
        .map(|(name, _)| name)
        .collect()
}
