//! A `catalogSearch` query, validated: words, attribute filters, category, price range, page.
//!
//! Non-obvious: text is reduced to lower-case words of letters and digits before any adapter sees
//! it, so neither MongoDB's `$search` string nor SQLite's FTS5 `MATCH` syntax can be injected,
//! and every word must match (MongoDB: each word quoted; FTS5: implicit AND).

use super::content::{CategorySlug, attribute_key};
use super::{InvalidInput, Sku};

/// Words to find in a product's name and description, all of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchText(Vec<String>);

impl SearchText {
    pub const MAX_CHARS: usize = 200;
    pub const MAX_WORDS: usize = 8;

    /// `None` for text without a word.
    pub fn parse(raw: &str) -> Result<Option<Self>, InvalidInput> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(InvalidInput::new(
                "text",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        let words: Vec<String> = raw
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        if words.len() > Self::MAX_WORDS {
            return Err(InvalidInput::new(
                "text",
                format!("at most {} words", Self::MAX_WORDS),
            ));
        }
        Ok((!words.is_empty()).then_some(Self(words)))
    }

    pub fn words(&self) -> &[String] {
        &self.0
    }
}

/// How an attribute's value is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterOp {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
}

/// A filter value: a number when the text parses as one (then only numeric values match).
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    Text(String),
    Number(f64),
}

/// `attribute <op> value`, matched against one attribute of the product (`$elemMatch`).
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeFilter {
    pub key: String,
    pub op: FilterOp,
    pub value: FilterValue,
}

impl AttributeFilter {
    pub fn new(field: &str, key: &str, op: FilterOp, value: &str) -> Result<Self, InvalidInput> {
        let key = attribute_key(&format!("{field}.key"), key)?;
        let trimmed = value.trim();
        let value = match trimmed.parse::<f64>() {
            Ok(n) if n.is_finite() => FilterValue::Number(n),
            _ if op != FilterOp::Eq => {
                return Err(InvalidInput::new(
                    format!("{field}.value"),
                    "must be a number for GT, GTE, LT and LTE",
                ));
            }
            _ if trimmed.is_empty() || trimmed.chars().count() > 200 => {
                return Err(InvalidInput::new(
                    format!("{field}.value"),
                    "must be 1 to 200 characters",
                ));
            }
            _ => FilterValue::Text(trimmed.to_owned()),
        };
        Ok(Self { key, op, value })
    }
}

/// A list-price range in USD minor units, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PriceRange {
    pub min_minor: Option<i64>,
    pub max_minor: Option<i64>,
}

impl PriceRange {
    pub fn new(min_minor: Option<i64>, max_minor: Option<i64>) -> Result<Self, InvalidInput> {
        if min_minor.is_some_and(|m| m < 0) || max_minor.is_some_and(|m| m < 0) {
            return Err(InvalidInput::new("priceRange", "must not be negative"));
        }
        if let (Some(min), Some(max)) = (min_minor, max_minor)
            && min > max
        {
            return Err(InvalidInput::new("priceRange", "min must not exceed max"));
        }
        Ok(Self {
            min_minor,
            max_minor,
        })
    }
}

/// One page of a catalog search, in SKU order.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    pub text: Option<SearchText>,
    pub filters: Vec<AttributeFilter>,
    pub category: Option<CategorySlug>,
    pub price: Option<PriceRange>,
    /// Rows to return (the caller asks for one more to learn whether a next page exists).
    pub limit: u32,
    pub after: Option<Sku>,
}

impl SearchQuery {
    pub const MAX_FILTERS: usize = 5;

    pub fn new(
        text: Option<SearchText>,
        filters: Vec<AttributeFilter>,
        category: Option<CategorySlug>,
        price: Option<PriceRange>,
        limit: u32,
        after: Option<Sku>,
    ) -> Result<Self, InvalidInput> {
        if filters.len() > Self::MAX_FILTERS {
            return Err(InvalidInput::new(
                "filters",
                format!("at most {}", Self::MAX_FILTERS),
            ));
        }
        Ok(Self {
            text,
            filters,
            category,
            price,
            limit,
            after,
        })
    }

    /// A stable text form of the query, the key of its cached page.
    pub fn cache_key(&self) -> String {
        format!("{self:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_becomes_lower_case_words_without_syntax() {
        let t = SearchText::parse(r#"Gooseneck "kettle" -steel OR $where"#)
            .unwrap()
            .unwrap();
        assert_eq!(t.words(), ["gooseneck", "kettle", "steel", "or", "where"]);
        assert_eq!(SearchText::parse("  -- ").unwrap(), None);
        assert!(SearchText::parse(&"a ".repeat(9)).is_err());
    }

    #[test]
    fn a_range_filter_needs_a_number() {
        assert!(AttributeFilter::new("filters[0]", "capacity", FilterOp::Gte, "big").is_err());
        let f = AttributeFilter::new("filters[0]", "capacity", FilterOp::Gte, "300").unwrap();
        assert_eq!(f.value, FilterValue::Number(300.0));
        let f = AttributeFilter::new("filters[0]", "colour", FilterOp::Eq, "blue").unwrap();
        assert_eq!(f.value, FilterValue::Text("blue".into()));
    }

    #[test]
    fn too_many_filters_and_inverted_ranges_are_refused() {
        let f = AttributeFilter::new("f", "k", FilterOp::Eq, "v").unwrap();
        assert!(SearchQuery::new(None, vec![f; 6], None, None, 10, None).is_err());
        assert!(PriceRange::new(Some(5), Some(4)).is_err());
    }
}
