//! Catalog values that validate on construction, so nothing malformed reaches a store: SKUs,
//! product content (attributes, variants, media), reviews and search queries.
//!
//! Non-obvious: every limit a client could push (text lengths, list sizes, filter counts) lives
//! here, so a store adapter may loop over any of these values without checking again.

mod content;
mod review;
mod search;
mod sku;

pub use content::{
    Attribute, AttributeValue, CatalogProduct, CategorySlug, Media, ProductContent, Variant,
    VariantOption, limits,
};
pub use review::{
    NewReview, Rating, RatingSummary, Review, ReviewCursor, ReviewId, ReviewOutcome, UserRef,
};
pub use search::{AttributeFilter, FilterOp, FilterValue, PriceRange, SearchQuery, SearchText};
pub use sku::Sku;

/// A value refused at the edge: the message names the field, e.g. `rating: must be 1 to 5`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidInput {
    pub field: String,
    pub message: String,
}

impl InvalidInput {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same problem, its field nested under `parent` (`variants[2]` + `sku`).
    pub fn under(self, parent: &str) -> Self {
        Self {
            field: format!("{parent}.{}", self.field),
            message: self.message,
        }
    }
}

/// `text` trimmed, refused when empty (unless `allow_empty`) or longer than `max` characters, or
/// holding control characters other than newlines and tabs.
pub fn bounded_text(
    field: &str,
    text: &str,
    max: usize,
    allow_empty: bool,
) -> Result<String, InvalidInput> {
    let trimmed = text.trim();
    if trimmed.is_empty() && !allow_empty {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    let chars = trimmed.chars().count();
    if chars > max {
        return Err(InvalidInput::new(
            field,
            format!("must be at most {max} characters (got {chars})"),
        ));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(InvalidInput::new(field, "must not hold control characters"));
    }
    Ok(trimmed.to_owned())
}
