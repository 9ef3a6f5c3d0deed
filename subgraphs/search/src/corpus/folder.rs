//! Documents from a folder: every `.txt` and `.md` file below it (at most [`MAX_FILES`]), id
//! `files:<path relative to the folder>`, title the first non-empty line, tags the folder names
//! on the way.

use std::path::Path;

use crate::domain::{Body, DocumentId, Language, NewDocument, Source, Tags, Title};

pub const MAX_FILES: usize = 100_000;

/// The documents of `root`, or the first file that cannot be one (named).
pub fn read(root: &Path, source: &Source) -> anyhow::Result<Vec<NewDocument>> {
    let mut files = Vec::new();
    walk(root, &mut files)?;
    files.sort();
    let mut docs = Vec::new();
    for path in files {
        let relative = path.strip_prefix(root).unwrap_or(&path);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let id: String = relative
            .to_string_lossy()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._:-+".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let title = text
            .lines()
            .map(|l| l.trim().trim_start_matches('#').trim())
            .find(|l| !l.is_empty())
            .unwrap_or("untitled");
        let tags: Vec<String> = relative
            .parent()
            .map(|p| {
                p.components()
                    .map(|c| {
                        c.as_os_str()
                            .to_string_lossy()
                            .to_lowercase()
                            .replace(' ', "-")
                    })
                    .collect()
            })
            .unwrap_or_default();
        let named = |e: crate::domain::InvalidInput| anyhow::anyhow!("{}: {e}", path.display());
        docs.push(NewDocument {
            id: DocumentId::parse(&format!("files:{id}")).map_err(named)?,
            title: Title::parse(&title.chars().take(300).collect::<String>()).map_err(named)?,
            body: Body::parse(&text).map_err(named)?,
            source: source.clone(),
            tags: Tags::parse(&tags).map_err(named)?,
            language: Language::default(),
        });
    }
    Ok(docs)
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("txt" | "md")
        ) {
            anyhow::ensure!(out.len() < MAX_FILES, "more than {MAX_FILES} files");
            out.push(path);
        }
    }
    Ok(())
}
