//! Input objects and their conversion into domain values (every rule applied there).

use async_graphql::{Enum, InputObject};

use crate::domain::{
    Attribute, AttributeValue, CategorySlug, FilterOp, InvalidInput, Media, ProductContent, Sku,
    Variant, limits,
};

/// How a filter compares an attribute's value.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "FilterOp")]
pub enum FilterOpInput {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl From<FilterOpInput> for FilterOp {
    fn from(op: FilterOpInput) -> Self {
        match op {
            FilterOpInput::Eq => FilterOp::Eq,
            FilterOpInput::Gt => FilterOp::Gt,
            FilterOpInput::Gte => FilterOp::Gte,
            FilterOpInput::Lt => FilterOp::Lt,
            FilterOpInput::Lte => FilterOp::Lte,
        }
    }
}

/// `key op value`, matched against one attribute. A value that parses as a number compares
/// numerically (and matches only numeric attributes); GT, GTE, LT and LTE need a number.
#[derive(InputObject)]
#[graphql(name = "AttributeFilterInput")]
pub struct AttributeFilterInput {
    pub key: String,
    #[graphql(default_with = "FilterOpInput::Eq")]
    pub op: FilterOpInput,
    pub value: String,
}

/// A list-price range in USD minor units, both ends included.
#[derive(InputObject)]
#[graphql(name = "PriceRangeInput")]
pub struct PriceRangeInput {
    pub min_minor: Option<i32>,
    pub max_minor: Option<i32>,
}

/// One attribute: exactly one of `text` and `number`.
#[derive(InputObject)]
pub struct AttributeInput {
    /// 1 to 40 of a-z, 0-9 and `_`.
    pub key: String,
    pub text: Option<String>,
    pub number: Option<f64>,
    /// E.g. `ml`.
    pub unit: Option<String>,
}

#[derive(InputObject)]
pub struct VariantOptionInput {
    pub name: String,
    pub value: String,
}

/// A sellable variant with its own SKU.
#[derive(InputObject)]
pub struct VariantInput {
    pub sku: String,
    #[graphql(default)]
    pub options: Vec<VariantOptionInput>,
    /// Minor units added to the product's price (±1 000 000).
    #[graphql(default)]
    pub price_delta_minor: i32,
    #[graphql(default)]
    pub stock_hint: i32,
}

#[derive(InputObject)]
pub struct MediaInput {
    /// `https://…` or a path starting with `/`.
    pub url: String,
    #[graphql(default)]
    pub alt: String,
}

/// Everything catalog keeps about a product; replaces what was there (reviews stay).
#[derive(InputObject)]
pub struct ProductContentInput {
    pub sku: String,
    /// The product's name as search should find it (commerce's name is the one shown).
    pub name: String,
    #[graphql(default)]
    pub description: String,
    pub brand: Option<String>,
    /// Category slugs, root first.
    #[graphql(default)]
    pub category_path: Vec<String>,
    /// The list price in USD minor units, for price-range filters.
    pub list_price_minor: Option<i32>,
    #[graphql(default)]
    pub attributes: Vec<AttributeInput>,
    #[graphql(default)]
    pub variants: Vec<VariantInput>,
    #[graphql(default)]
    pub media: Vec<MediaInput>,
}

/// `list` unless it is longer than `max`: checked before any loop over it.
fn bounded<'a, T>(field: &str, list: &'a [T], max: usize) -> Result<&'a [T], InvalidInput> {
    if list.len() > max {
        Err(InvalidInput::new(field, format!("at most {max}")))
    } else {
        Ok(list)
    }
}

impl AttributeInput {
    fn parse(&self, field: &str) -> Result<Attribute, InvalidInput> {
        let value = match (&self.text, self.number) {
            (Some(text), None) => AttributeValue::Text(text.clone()),
            (None, Some(n)) => AttributeValue::Number(n),
            _ => {
                return Err(InvalidInput::new(
                    field,
                    "give exactly one of `text` and `number`",
                ));
            }
        };
        Attribute::new(field, &self.key, value, self.unit.as_deref())
    }
}

impl VariantInput {
    pub fn parse(&self, field: &str) -> Result<Variant, InvalidInput> {
        let options = bounded(&format!("{field}.options"), &self.options, limits::OPTIONS)?;
        let options: Vec<(String, String)> = options
            .iter()
            .map(|o| (o.name.clone(), o.value.clone()))
            .collect();
        Variant::new(
            field,
            &self.sku,
            &options,
            i64::from(self.price_delta_minor),
            self.stock_hint,
        )
    }
}

impl ProductContentInput {
    pub fn parse(&self) -> Result<ProductContent, InvalidInput> {
        let sku = Sku::parse(&self.sku)?;
        let path = bounded("categoryPath", &self.category_path, limits::CATEGORY_DEPTH)?;
        let category_path = path
            .iter()
            .enumerate()
            .map(|(i, c)| CategorySlug::parse_field(&format!("categoryPath[{i}]"), c))
            .collect::<Result<Vec<_>, _>>()?;
        let attributes = bounded("attributes", &self.attributes, limits::ATTRIBUTES)?
            .iter()
            .enumerate()
            .map(|(i, a)| a.parse(&format!("attributes[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let variants = bounded("variants", &self.variants, limits::VARIANTS)?
            .iter()
            .enumerate()
            .map(|(i, v)| v.parse(&format!("variants[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let media = bounded("media", &self.media, limits::MEDIA)?
            .iter()
            .enumerate()
            .map(|(i, m)| Media::new(&format!("media[{i}]"), &m.url, &m.alt))
            .collect::<Result<Vec<_>, _>>()?;
        ProductContent::new(
            sku,
            &self.name,
            &self.description,
            self.brand.as_deref(),
            category_path,
            self.list_price_minor.map(i64::from),
            attributes,
            variants,
            media,
        )
    }
}

/// A review of one product by the signed-in user.
#[derive(InputObject)]
pub struct AddReviewInput {
    pub sku: String,
    /// 1 to 5.
    pub rating: i32,
    /// 1 to 120 characters.
    pub title: String,
    /// Up to 4000 characters.
    #[graphql(default)]
    pub body: String,
}
