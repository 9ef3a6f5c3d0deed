//! The Debian package descriptions from apt's lists (`apt-cache dumpavail`): one document per
//! package, `debian:<package>`, titled by the package name, its one-line description as the
//! body, its section and first debtags as tags. About 63 000 documents on bookworm.
//!
//! Non-obvious: apt's lists carry only the short descriptions unless translation files were
//! downloaded, so documents are short (one chunk each); the bench's chunk count equals its
//! document count.

use crate::domain::{Body, DocumentId, Language, NewDocument, Source, Tags, Title};

/// Debtags kept per package (the list can run to twenty).
pub const MAX_DEBTAGS: usize = 6;

/// The records of `apt-cache dumpavail`; apt-get update first when the lists are empty.
pub fn read_apt_lists() -> anyhow::Result<String> {
    let dump = || -> anyhow::Result<String> {
        let out = std::process::Command::new("apt-cache")
            .arg("dumpavail")
            .output()?;
        anyhow::ensure!(out.status.success(), "apt-cache dumpavail failed");
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let text = dump()?;
    if text.contains("\nPackage: ") || text.starts_with("Package: ") {
        return Ok(text);
    }
    anyhow::bail!("apt's package lists are empty: run `apt-get update` first")
}

/// Parses the records of a Packages file (or `apt-cache dumpavail`): the first record of each
/// package name wins, records without a description are skipped, at most `limit` documents.
pub fn parse(text: &str, limit: usize) -> Vec<NewDocument> {
    let mut seen = std::collections::HashSet::new();
    let mut docs = Vec::new();
    for record in text.split("\n\n") {
        if docs.len() >= limit {
            break;
        }
        let fields = fields(record);
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let (Some(package), Some(description)) = (get("Package"), get("Description")) else {
            continue;
        };
        if !seen.insert(package.to_owned()) {
            continue;
        }
        let mut tags: Vec<String> = Vec::new();
        if let Some(section) = get("Section") {
            tags.push(section.rsplit('/').next().unwrap_or(section).to_owned());
        }
        if let Some(debtags) = get("Tag") {
            tags.extend(
                debtags
                    .split(',')
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .take(MAX_DEBTAGS),
            );
        }
        let doc = (|| {
            Some(NewDocument {
                id: DocumentId::parse(&format!("debian:{package}")).ok()?,
                title: Title::parse(package).ok()?,
                body: Body::parse(description).ok()?,
                source: Source::parse("debian").ok()?,
                tags: Tags::parse(&tags).ok()?,
                language: Language::default(),
            })
        })();
        if let Some(doc) = doc {
            docs.push(doc);
        }
    }
    docs
}

/// `Name: value` fields of one record; continuation lines (leading space) join the value.
fn fields(record: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in record.lines() {
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some((_, value)) = fields.last_mut() {
                let more = line.trim();
                if more != "." {
                    value.push(' ');
                    value.push_str(more);
                }
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Package: 0ad
Version: 0.0.26-3
Description: Real-time strategy game of ancient warfare
Tag: game::strategy, interface::graphical, interface::x11, role::program,
 uitoolkit::sdl, uitoolkit::wxwidgets, use::gameplaying,
 x11::application
Section: games

Package: g++
Description: GNU C++ compiler
Section: devel

Package: 0ad
Description: a second record of the same package
Section: games

Package: no-description
Section: misc
";

    #[test]
    fn records_become_documents_with_section_and_debtags() {
        let docs = parse(SAMPLE, 100);
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].id.as_str(), "debian:0ad");
        assert_eq!(
            docs[0].body.as_str(),
            "Real-time strategy game of ancient warfare"
        );
        let tags = docs[0].tags.as_strings();
        assert!(tags.contains(&"games".to_owned()));
        assert!(tags.contains(&"uitoolkit::sdl".to_owned()), "{tags:?}");
        assert_eq!(tags.len(), 1 + MAX_DEBTAGS);
        assert_eq!(docs[1].id.as_str(), "debian:g++");
    }

    #[test]
    fn the_limit_is_respected() {
        assert_eq!(parse(SAMPLE, 1).len(), 1);
    }
}
