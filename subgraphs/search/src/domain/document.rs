//! Documents, the source of truth the vector index is derived from, and the ids of their chunks.
//!
//! Non-obvious: a chunk's [`PointId`] is a pure function of (document id, chunk index), so
//! re-indexing a document overwrites its chunks in place, a retried write lands on the same
//! points, and "every chunk of document X" is a filter on one payload field, never a list the
//! caller must remember.

use std::fmt;

use sha2::{Digest, Sha256};

use super::{InvalidInput, invalid};

/// A document id: 1 to 128 characters of `A-Z a-z 0-9 . _ : - +` (e.g. `debian:g++`,
/// `catalog:MUG-01`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentId(String);

impl DocumentId {
    pub const MAX_LEN: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let id = raw.trim();
        if id.is_empty() || id.len() > Self::MAX_LEN {
            return invalid("id", "must be 1 to 128 characters");
        }
        if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-' | '+'))
        {
            return invalid(
                "id",
                "may hold only letters, digits, '.', '_', ':', '-' and '+'",
            );
        }
        Ok(Self(id.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id of the chunk `index` of this document.
    pub fn point(&self, index: u32) -> PointId {
        PointId::of(self, index)
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of one chunk's point: the first 128 bits of SHA-256 over `<document id>#<chunk index>`,
/// written as a UUID (the form Qdrant accepts for string ids; version and variant bits set as for
/// a name-based UUID so any UUID parser takes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PointId([u8; 16]);

impl PointId {
    pub fn of(document: &DocumentId, index: u32) -> Self {
        let digest = Sha256::digest(format!("{}#{index}", document.as_str()).as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        bytes[6] = (bytes[6] & 0x0f) | 0x50;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Self(bytes)
    }

    /// Parses the hyphenated UUID form [`Display`](fmt::Display) writes.
    pub fn parse(raw: &str) -> Option<Self> {
        let hex: String = raw.chars().filter(|c| *c != '-').collect();
        let decoded = hex::decode(hex).ok()?;
        Some(Self(decoded.try_into().ok()?))
    }
}

impl fmt::Display for PointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = hex::encode(self.0);
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

/// A title: 1 to 300 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let title = raw.trim();
        match title.chars().count() {
            0 => invalid("title", "must not be empty"),
            1..=300 => Ok(Self(title.to_owned())),
            _ => invalid("title", "must be at most 300 characters"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A document's text: up to [`Body::MAX_BYTES`]; may be empty (the title alone is indexed).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Body(String);

impl Body {
    /// 200 KB: about 30 000 words, 375 chunks; longer texts belong split into several documents.
    pub const MAX_BYTES: usize = 200 * 1024;

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        if raw.len() > Self::MAX_BYTES {
            return invalid("body", format!("must be at most {} bytes", Self::MAX_BYTES));
        }
        if raw
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return invalid("body", "must not contain control characters");
        }
        Ok(Self(raw.trim().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a document comes from, e.g. `catalog`, `debian`, `guides`: 1 to 32 of `a-z 0-9 _ -`.
/// Documents whose source is [`Source::CATALOG`] describe a product.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Source(String);

impl Source {
    pub const CATALOG: &'static str = "catalog";

    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let source = raw.trim().to_ascii_lowercase();
        if source.is_empty() || source.len() > 32 {
            return invalid("source", "must be 1 to 32 characters");
        }
        if !source
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'))
        {
            return invalid("source", "may hold only a-z, 0-9, '_' and '-'");
        }
        Ok(Self(source))
    }

    pub fn catalog() -> Self {
        Self(Self::CATALOG.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tag: 1 to 64 characters, lowercased, no spaces (e.g. `kitchen`, `game::strategy`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let tag = raw.trim().to_lowercase();
        if tag.is_empty() || tag.chars().count() > 64 {
            return invalid("tags", "each tag must be 1 to 64 characters");
        }
        if tag.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid("tags", "a tag must not contain spaces");
        }
        Ok(Self(tag))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A document's tags: at most [`Tags::MAX`], sorted, without duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Tags(Vec<Tag>);

impl Tags {
    pub const MAX: usize = 32;

    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, InvalidInput> {
        if raw.len() > Self::MAX {
            return invalid("tags", format!("at most {} tags", Self::MAX));
        }
        let mut tags = raw
            .iter()
            .map(|t| Tag::parse(t.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        tags.sort();
        tags.dedup();
        Ok(Self(tags))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Tag> {
        self.0.iter()
    }

    pub fn as_strings(&self) -> Vec<String> {
        self.0.iter().map(|t| t.0.clone()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, tag: &Tag) -> bool {
        self.0.binary_search(tag).is_ok()
    }
}

/// A BCP 47-ish language code: 2 to 8 of `a-z` and `-` (`en`, `de`, `pt-br`); default `en`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Language(String);

impl Language {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let lang = raw.trim().to_ascii_lowercase();
        if !(2..=8).contains(&lang.len())
            || !lang.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        {
            return invalid("language", "must be a language code such as en or pt-br");
        }
        Ok(Self(lang))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Language {
    fn default() -> Self {
        Self("en".to_owned())
    }
}

/// A document as a writer gives it: everything but the version and the times, which the store
/// assigns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    pub id: DocumentId,
    pub title: Title,
    pub body: Body,
    pub source: Source,
    pub tags: Tags,
    pub language: Language,
}

impl NewDocument {
    /// A digest of every field: a write whose digest equals the stored one changes nothing (a
    /// retried write never bumps the version twice).
    pub fn content_hash(&self) -> String {
        let mut hasher = Sha256::new();
        for part in [
            self.title.as_str(),
            self.body.as_str(),
            self.source.as_str(),
            self.language.as_str(),
        ] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        for tag in self.tags.iter() {
            hasher.update((tag.as_str().len() as u64).to_le_bytes());
            hasher.update(tag.as_str().as_bytes());
        }
        hex::encode(&hasher.finalize()[..16])
    }
}

/// A stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub id: DocumentId,
    pub title: Title,
    pub body: Body,
    pub source: Source,
    pub tags: Tags,
    pub language: Language,
    /// 1 on creation, +1 on every write that changes a field.
    pub version: u64,
    /// Milliseconds since the epoch (UTC).
    pub created_at: i64,
    pub updated_at: i64,
    /// The version whose chunks the vector index holds; `None` until first indexed. Behind
    /// `version` while the document waits for the embedder.
    pub indexed_version: Option<u64>,
}

impl Document {
    /// Whether the index holds this version's chunks.
    pub fn is_indexed(&self) -> bool {
        self.indexed_version == Some(self.version)
    }

    /// The product a catalog document describes: its SKU is the id after `catalog:`.
    pub fn product_sku(&self) -> Option<&str> {
        (self.source.as_str() == Source::CATALOG)
            .then(|| self.id.as_str().strip_prefix("catalog:"))
            .flatten()
    }

    pub fn content(&self) -> NewDocument {
        NewDocument {
            id: self.id.clone(),
            title: self.title.clone(),
            body: self.body.clone(),
            source: self.source.clone(),
            tags: self.tags.clone(),
            language: self.language.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_ids_depend_only_on_document_and_index() {
        let a = DocumentId::parse("debian:bash").unwrap();
        let b = DocumentId::parse("debian:dash").unwrap();
        assert_eq!(a.point(0), a.point(0));
        assert_ne!(a.point(0), a.point(1));
        assert_ne!(a.point(0), b.point(0));
        let text = a.point(3).to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(&text[14..15], "5", "name-based UUID version");
        assert_eq!(PointId::parse(&text), Some(a.point(3)));
    }

    #[test]
    fn ids_refuse_spaces_and_overlong_values() {
        assert!(DocumentId::parse("catalog:MUG-01").is_ok());
        assert!(DocumentId::parse("a b").is_err());
        assert!(DocumentId::parse("").is_err());
        assert!(DocumentId::parse(&"x".repeat(129)).is_err());
    }

    #[test]
    fn tags_are_lowercased_sorted_and_deduplicated() {
        let tags = Tags::parse(&["Kitchen", "coffee", "kitchen"]).unwrap();
        assert_eq!(tags.as_strings(), ["coffee", "kitchen"]);
        assert!(Tags::parse(&["two words"]).is_err());
        assert!(Tags::parse(&vec!["t"; 33]).is_err());
    }

    #[test]
    fn a_catalog_document_names_its_product() {
        let doc = Document {
            id: DocumentId::parse("catalog:MUG-01").unwrap(),
            title: Title::parse("Stoneware mug").unwrap(),
            body: Body::parse("").unwrap(),
            source: Source::catalog(),
            tags: Tags::default(),
            language: Language::default(),
            version: 1,
            created_at: 0,
            updated_at: 0,
            indexed_version: None,
        };
        assert_eq!(doc.product_sku(), Some("MUG-01"));
        let other = Document {
            source: Source::parse("guides").unwrap(),
            ..doc
        };
        assert_eq!(other.product_sku(), None);
    }

    #[test]
    fn the_content_hash_changes_with_any_field() {
        let doc = NewDocument {
            id: DocumentId::parse("d").unwrap(),
            title: Title::parse("t").unwrap(),
            body: Body::parse("b").unwrap(),
            source: Source::parse("s").unwrap(),
            tags: Tags::default(),
            language: Language::default(),
        };
        let mut changed = doc.clone();
        changed.tags = Tags::parse(&["x"]).unwrap();
        assert_ne!(doc.content_hash(), changed.content_hash());
        assert_eq!(doc.content_hash(), doc.clone().content_hash());
    }
}
