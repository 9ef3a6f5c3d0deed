//! What a search asks for: the text, how many hits, and the filter, each refused at the edge
//! when out of bounds.

use super::{InvalidInput, Source, Tag, Tags, invalid};

/// Most hits one search returns.
pub const MAX_FIRST: usize = 50;
/// Longest query text: queries are embedded whole and the model reads at most 256 word pieces,
/// so a longer query would be silently truncated; 1 KB is well past that.
pub const MAX_QUERY_BYTES: usize = 1024;

/// A query's text: not blank, at most [`MAX_QUERY_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let text = raw.trim();
        if text.is_empty() {
            return invalid("text", "must not be empty");
        }
        if text.len() > MAX_QUERY_BYTES {
            return invalid("text", format!("must be at most {MAX_QUERY_BYTES} bytes"));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `first` (hits wanted), 1 to [`MAX_FIRST`].
pub fn first(raw: i32) -> Result<usize, InvalidInput> {
    if (1..=MAX_FIRST as i32).contains(&raw) {
        Ok(raw as usize)
    } else {
        invalid("first", format!("must be between 1 and {MAX_FIRST}"))
    }
}

/// Which chunks a search may return; every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// The chunk's document carries every one of these tags.
    pub tags: Vec<Tag>,
    /// The chunk's document comes from this source.
    pub source: Option<Source>,
    /// The chunk's document was created strictly after this instant (ms since the epoch).
    pub created_after: Option<i64>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.source.is_none() && self.created_after.is_none()
    }

    /// Whether a chunk with this payload passes.
    pub fn accepts(&self, source: &Source, tags: &Tags, created_at: i64) -> bool {
        self.source.as_ref().is_none_or(|s| s == source)
            && self.created_after.is_none_or(|after| created_at > after)
            && self.tags.iter().all(|t| tags.contains(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_and_oversized_queries_are_refused() {
        assert!(SearchText::parse("  ").is_err());
        assert!(SearchText::parse(&"a".repeat(MAX_QUERY_BYTES + 1)).is_err());
        assert_eq!(SearchText::parse(" coffee ").unwrap().as_str(), "coffee");
    }

    #[test]
    fn first_is_bounded() {
        assert!(first(0).is_err());
        assert!(first(MAX_FIRST as i32 + 1).is_err());
        assert_eq!(first(10).unwrap(), 10);
    }

    #[test]
    fn a_filter_needs_every_condition() {
        let tags = Tags::parse(&["kitchen", "coffee"]).unwrap();
        let source = Source::parse("catalog").unwrap();
        let filter = Filter {
            tags: vec![Tag::parse("kitchen").unwrap()],
            source: Some(source.clone()),
            created_after: Some(100),
        };
        assert!(filter.accepts(&source, &tags, 101));
        assert!(!filter.accepts(&source, &tags, 100));
        assert!(!filter.accepts(&Source::parse("guides").unwrap(), &tags, 101));
        assert!(!filter.accepts(&source, &Tags::parse(&["coffee"]).unwrap(), 101));
        assert!(Filter::default().accepts(&source, &Tags::default(), 0));
    }
}
