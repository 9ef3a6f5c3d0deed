//! `polygate schema export|check`: each subgraph's SDL comes from its code and is committed in
//! `schema/<name>.graphql`; `check` fails when a committed file differs from the code.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// Every subgraph this workspace builds, with the SDL its code produces.
pub fn subgraph_sdls() -> Vec<(&'static str, String)> {
    vec![
        (polygate_commerce::NAME, polygate_commerce::sdl()),
        (polygate_session::NAME, polygate_session::sdl()),
    ]
}

fn file_for(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.graphql"))
}

fn normalized(sdl: &str) -> String {
    format!("{}\n", sdl.trim_end())
}

pub fn export(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    subgraph_sdls()
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
pub fn drifted(dir: &Path) -> Vec<&'static str> {
    subgraph_sdls()
        .into_iter()
        .filter(|(name, sdl)| {
            std::fs::read_to_string(file_for(dir, name)).ok() != Some(normalized(sdl))
        })
        .map(|(name, _)| name)
        .collect()
}
