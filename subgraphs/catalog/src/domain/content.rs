//! A product's content: what catalog owns about a SKU (commerce owns name of record, price and
//! stock). Built only through [`ProductContent::new`] and [`Variant::new`], which apply every
//! rule in [`limits`]; the stored document is a serialisation of these types.

use chrono::{DateTime, Utc};

use super::review::{RatingSummary, Review};
use super::{InvalidInput, Sku, bounded_text};

/// The bounds on content, so a document stays far below MongoDB's 16 MiB and a loop over any
/// list is short.
pub mod limits {
    pub const NAME: usize = 200;
    pub const DESCRIPTION: usize = 10_000;
    pub const BRAND: usize = 100;
    pub const CATEGORY_DEPTH: usize = 4;
    pub const ATTRIBUTES: usize = 100;
    pub const ATTRIBUTE_KEY: usize = 40;
    pub const ATTRIBUTE_TEXT: usize = 200;
    pub const UNIT: usize = 16;
    pub const VARIANTS: usize = 100;
    pub const OPTIONS: usize = 5;
    pub const OPTION_TEXT: usize = 40;
    pub const MEDIA: usize = 20;
    pub const URL: usize = 500;
    /// Largest price delta of a variant, in minor units (±10 000.00).
    pub const PRICE_DELTA: i64 = 1_000_000;
    pub const STOCK_HINT: i32 = 1_000_000;
    pub const LIST_PRICE: i64 = 1_000_000_000_000;
}

/// A category slug: 1 to 40 of `a-z`, `0-9` and `-`, e.g. `kitchen`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CategorySlug(String);

impl CategorySlug {
    pub fn parse_field(field: &str, raw: &str) -> Result<Self, InvalidInput> {
        let slug = raw.trim().to_ascii_lowercase();
        let ok = (1..=40).contains(&slug.len())
            && slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(slug))
        } else {
            Err(InvalidInput::new(
                field,
                "must be 1 to 40 of a-z, 0-9 and `-`",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An attribute's value: text or a number (numbers compare as numbers in filters).
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    Text(String),
    Number(f64),
}

impl AttributeValue {
    /// How a client sees it: numbers without a trailing `.0`.
    pub fn display(&self) -> String {
        match self {
            AttributeValue::Text(t) => t.clone(),
            AttributeValue::Number(n) => format_number(*n),
        }
    }
}

pub(crate) fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// One free-form attribute (`{k, v, unit}`: the attribute pattern).
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// `a-z`, `0-9` and `_`, e.g. `capacity`.
    pub key: String,
    pub value: AttributeValue,
    /// E.g. `ml`; only meaningful with a number.
    pub unit: Option<String>,
}

impl Attribute {
    pub fn new(
        field: &str,
        key: &str,
        value: AttributeValue,
        unit: Option<&str>,
    ) -> Result<Self, InvalidInput> {
        let key = attribute_key(&format!("{field}.key"), key)?;
        let value = match value {
            AttributeValue::Text(t) => AttributeValue::Text(bounded_text(
                &format!("{field}.value"),
                &t,
                limits::ATTRIBUTE_TEXT,
                false,
            )?),
            AttributeValue::Number(n) if n.is_finite() => AttributeValue::Number(n),
            AttributeValue::Number(_) => {
                return Err(InvalidInput::new(
                    format!("{field}.number"),
                    "must be a finite number",
                ));
            }
        };
        let unit = unit
            .map(|u| bounded_text(&format!("{field}.unit"), u, limits::UNIT, true))
            .transpose()?
            .filter(|u| !u.is_empty());
        Ok(Self { key, value, unit })
    }
}

/// An attribute key: 1 to 40 of `a-z`, `0-9` and `_`.
pub(crate) fn attribute_key(field: &str, raw: &str) -> Result<String, InvalidInput> {
    let key = raw.trim().to_ascii_lowercase();
    let ok = (1..=limits::ATTRIBUTE_KEY).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(key)
    } else {
        Err(InvalidInput::new(
            field,
            format!("must be 1 to {} of a-z, 0-9 and `_`", limits::ATTRIBUTE_KEY),
        ))
    }
}

/// One option of a variant, e.g. `colour: blue`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantOption {
    pub name: String,
    pub value: String,
}

/// A sellable variant of a product: its own SKU, the options that tell it apart, the price
/// difference to the product's price and a stock hint (commerce holds the real stock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub sku: Sku,
    pub options: Vec<VariantOption>,
    /// Minor units added to (or, negative, taken from) the product's price.
    pub price_delta_minor: i64,
    /// Roughly how many are in stock, for display ("only 3 left"); never used to sell.
    pub stock_hint: i32,
}

impl Variant {
    pub fn new(
        field: &str,
        sku: &str,
        options: &[(String, String)],
        price_delta_minor: i64,
        stock_hint: i32,
    ) -> Result<Self, InvalidInput> {
        let sku = Sku::parse_field(&format!("{field}.sku"), sku)?;
        if options.len() > limits::OPTIONS {
            return Err(InvalidInput::new(
                format!("{field}.options"),
                format!("at most {} options", limits::OPTIONS),
            ));
        }
        let mut parsed = Vec::with_capacity(options.len());
        for (i, (name, value)) in options.iter().enumerate() {
            let at = format!("{field}.options[{i}]");
            let name = attribute_key(&format!("{at}.name"), name)?;
            if parsed.iter().any(|o: &VariantOption| o.name == name) {
                return Err(InvalidInput::new(
                    format!("{at}.name"),
                    format!("`{name}` is given twice"),
                ));
            }
            let value = bounded_text(&format!("{at}.value"), value, limits::OPTION_TEXT, false)?;
            parsed.push(VariantOption { name, value });
        }
        if price_delta_minor.abs() > limits::PRICE_DELTA {
            return Err(InvalidInput::new(
                format!("{field}.priceDeltaMinor"),
                format!("must be within ±{}", limits::PRICE_DELTA),
            ));
        }
        if !(0..=limits::STOCK_HINT).contains(&stock_hint) {
            return Err(InvalidInput::new(
                format!("{field}.stockHint"),
                format!("must be 0 to {}", limits::STOCK_HINT),
            ));
        }
        Ok(Self {
            sku,
            options: parsed,
            price_delta_minor,
            stock_hint,
        })
    }
}

/// A picture or video of the product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// `https://…` (or a path below `/` on our own host).
    pub url: String,
    pub alt: String,
}

impl Media {
    pub fn new(field: &str, url: &str, alt: &str) -> Result<Self, InvalidInput> {
        let url = bounded_text(&format!("{field}.url"), url, limits::URL, false)?;
        if !(url.starts_with("https://") || url.starts_with('/'))
            || url.contains(char::is_whitespace)
        {
            return Err(InvalidInput::new(
                format!("{field}.url"),
                "must be an https:// URL or a path starting with /",
            ));
        }
        let alt = bounded_text(&format!("{field}.alt"), alt, limits::OPTION_TEXT * 5, true)?;
        Ok(Self { url, alt })
    }
}

/// Everything staff write about a product in one `upsertProductContent`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductContent {
    pub sku: Sku,
    /// A copy of commerce's name, kept for text search (the graph reads the name from commerce).
    pub name: String,
    pub description: String,
    /// The brand's name, copied into the document (no join on read).
    pub brand: Option<String>,
    /// Root first, e.g. `[kitchen, drinkware]`; a search by category matches any level.
    pub category_path: Vec<CategorySlug>,
    /// The list price in USD minor units, copied for price-range filters; commerce's price is
    /// what the graph shows and what orders pay.
    pub list_price_minor: Option<i64>,
    pub attributes: Vec<Attribute>,
    pub variants: Vec<Variant>,
    pub media: Vec<Media>,
}

impl ProductContent {
    /// Checks the rules that span fields: list sizes, unique attribute keys and variant SKUs.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        sku: Sku,
        name: &str,
        description: &str,
        brand: Option<&str>,
        category_path: Vec<CategorySlug>,
        list_price_minor: Option<i64>,
        attributes: Vec<Attribute>,
        variants: Vec<Variant>,
        media: Vec<Media>,
    ) -> Result<Self, InvalidInput> {
        let name = bounded_text("name", name, limits::NAME, false)?;
        let description = bounded_text("description", description, limits::DESCRIPTION, true)?;
        let brand = brand
            .map(|b| bounded_text("brand", b, limits::BRAND, true))
            .transpose()?
            .filter(|b| !b.is_empty());
        if category_path.len() > limits::CATEGORY_DEPTH {
            return Err(InvalidInput::new(
                "categoryPath",
                format!("at most {} levels", limits::CATEGORY_DEPTH),
            ));
        }
        if let Some(price) = list_price_minor
            && !(0..=limits::LIST_PRICE).contains(&price)
        {
            return Err(InvalidInput::new(
                "listPriceMinor",
                format!("must be 0 to {}", limits::LIST_PRICE),
            ));
        }
        if attributes.len() > limits::ATTRIBUTES {
            return Err(InvalidInput::new(
                "attributes",
                format!("at most {}", limits::ATTRIBUTES),
            ));
        }
        for (i, attribute) in attributes.iter().enumerate() {
            if attributes[..i].iter().any(|a| a.key == attribute.key) {
                return Err(InvalidInput::new(
                    format!("attributes[{i}].key"),
                    format!("`{}` is given twice", attribute.key),
                ));
            }
        }
        if variants.len() > limits::VARIANTS {
            return Err(InvalidInput::new(
                "variants",
                format!("at most {}", limits::VARIANTS),
            ));
        }
        for (i, variant) in variants.iter().enumerate() {
            if variant.sku == sku || variants[..i].iter().any(|v| v.sku == variant.sku) {
                return Err(InvalidInput::new(
                    format!("variants[{i}].sku"),
                    format!("`{}` is used twice in this product", variant.sku),
                ));
            }
        }
        if media.len() > limits::MEDIA {
            return Err(InvalidInput::new(
                "media",
                format!("at most {}", limits::MEDIA),
            ));
        }
        Ok(Self {
            sku,
            name,
            description,
            brand,
            category_path,
            list_price_minor,
            attributes,
            variants,
            media,
        })
    }

    /// This content with `variant` added, or replacing the variant with its SKU.
    pub fn with_variant(&self, variant: Variant) -> Result<Self, InvalidInput> {
        let mut variants = self.variants.clone();
        match variants.iter_mut().find(|v| v.sku == variant.sku) {
            Some(existing) => *existing = variant,
            None => variants.push(variant),
        }
        Self::new(
            self.sku.clone(),
            &self.name,
            &self.description,
            self.brand.as_deref(),
            self.category_path.clone(),
            self.list_price_minor,
            self.attributes.clone(),
            variants,
            self.media.clone(),
        )
    }

    /// This content without the variant `variant_sku` (`None` when it has no such variant).
    pub fn without_variant(&self, variant_sku: &Sku) -> Option<Self> {
        let before = self.variants.len();
        let mut out = self.clone();
        out.variants.retain(|v| &v.sku != variant_sku);
        (out.variants.len() < before).then_some(out)
    }

    /// Everything a text search should find the product by, for the search feed: the
    /// description, attributes as words, and variant options.
    pub fn searchable_text(&self) -> String {
        let mut text = self.description.clone();
        for attribute in &self.attributes {
            text.push('\n');
            text.push_str(&attribute.key.replace('_', " "));
            text.push(' ');
            text.push_str(&attribute.value.display());
            if let Some(unit) = &attribute.unit {
                text.push(' ');
                text.push_str(unit);
            }
        }
        for variant in &self.variants {
            for option in &variant.options {
                text.push('\n');
                text.push_str(&option.name);
                text.push(' ');
                text.push_str(&option.value);
            }
        }
        text
    }

    /// Tags for search filters: every category level and the brand.
    pub fn tags(&self) -> Vec<String> {
        let mut tags: Vec<String> = self
            .category_path
            .iter()
            .map(|c| format!("category:{}", c.as_str()))
            .collect();
        if let Some(brand) = &self.brand {
            tags.push(format!("brand:{brand}"));
        }
        tags
    }
}

/// A product as catalog serves it: its content, the rating summary and the latest reviews
/// (both kept in the document), and when it last changed.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogProduct {
    pub content: ProductContent,
    pub rating: RatingSummary,
    /// Newest first, at most [`RatingSummary::RECENT`] (the subset pattern).
    pub recent_reviews: Vec<Review>,
    /// Counts content writes, from 1.
    pub revision: i64,
    pub updated_at: DateTime<Utc>,
    /// The shape it was stored in (upgraded on read when older than the current one).
    pub stored_version: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    fn content(variants: Vec<Variant>) -> Result<ProductContent, InvalidInput> {
        ProductContent::new(
            sku("MUG-01"),
            "Mug",
            "",
            None,
            vec![],
            None,
            vec![],
            variants,
            vec![],
        )
    }

    #[test]
    fn a_variant_sku_may_appear_once_per_product() {
        let blue = Variant::new("v", "MUG-01-B", &[], 0, 1).unwrap();
        let err = content(vec![blue.clone(), blue]).unwrap_err();
        assert_eq!(err.field, "variants[1].sku");
        let same_as_product = Variant::new("v", "MUG-01", &[], 0, 1).unwrap();
        assert!(content(vec![same_as_product]).is_err());
    }

    #[test]
    fn attributes_are_checked_field_by_field() {
        let err = Attribute::new(
            "attributes[3]",
            "Bad Key",
            AttributeValue::Number(1.0),
            None,
        )
        .unwrap_err();
        assert_eq!(err.field, "attributes[3].key");
        let err = Attribute::new("a", "k", AttributeValue::Number(f64::NAN), None).unwrap_err();
        assert_eq!(err.field, "a.number");
        let ok =
            Attribute::new("a", "capacity", AttributeValue::Number(350.0), Some("ml")).unwrap();
        assert_eq!(ok.value.display(), "350");
    }

    #[test]
    fn media_must_be_https_or_a_local_path() {
        assert!(Media::new("m", "http://x/y.png", "").is_err());
        assert!(Media::new("m", "https://cdn.example.com/mug.webp", "A mug").is_ok());
        assert!(Media::new("m", "/media/mug.webp", "").is_ok());
    }

    #[test]
    fn with_variant_replaces_by_sku_and_without_variant_removes() {
        let c = content(vec![Variant::new("v", "MUG-01-B", &[], 0, 1).unwrap()]).unwrap();
        let c2 = c
            .with_variant(Variant::new("v", "MUG-01-B", &[], 100, 5).unwrap())
            .unwrap();
        assert_eq!(c2.variants.len(), 1);
        assert_eq!(c2.variants[0].price_delta_minor, 100);
        let c3 = c2.without_variant(&sku("MUG-01-B")).unwrap();
        assert!(c3.variants.is_empty());
        assert!(c3.without_variant(&sku("MUG-01-B")).is_none());
    }
}
