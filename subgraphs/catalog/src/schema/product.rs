//! The `Product` entity as catalog extends it, its content types, and the batch loader behind
//! every product this subgraph resolves.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, Object, Result, SimpleObject};

use super::{bad_input, page_size, store, store_failed};
use crate::domain::{AttributeValue, CatalogProduct, RatingSummary, Review, ReviewCursor, Sku};
use crate::store::{CatalogStore, StoreError};

/// A product, by the SKU commerce and catalog share; `content` is `None` when catalog has none.
pub struct ProductNode {
    pub sku: Sku,
    pub product: Option<CatalogProduct>,
}

impl ProductNode {
    pub fn new(product: CatalogProduct) -> Self {
        Self {
            sku: product.content.sku.clone(),
            product: Some(product),
        }
    }
}

/// A product of the catalog. Commerce owns it (name, price, stock); catalog adds its content.
#[Object(name = "Product")]
impl ProductNode {
    /// The stock-keeping unit both subgraphs key the product by.
    async fn sku(&self) -> &str {
        self.sku.as_str()
    }

    /// The product's description (catalog's content; empty when it has none yet).
    #[graphql(override_from = "commerce")]
    async fn description(&self) -> &str {
        self.product
            .as_ref()
            .map_or("", |p| p.content.description.as_str())
    }

    /// The brand's name.
    async fn brand(&self) -> Option<&str> {
        self.product.as_ref()?.content.brand.as_deref()
    }

    /// Category slugs, root first, e.g. `["kitchen", "drinkware"]`.
    async fn category_path(&self) -> Vec<&str> {
        self.product.as_ref().map_or_else(Vec::new, |p| {
            p.content.category_path.iter().map(|c| c.as_str()).collect()
        })
    }

    /// Free-form attributes, e.g. `capacity: 350 ml`.
    async fn attributes(&self) -> Vec<AttributeNode> {
        self.product.as_ref().map_or_else(Vec::new, |p| {
            p.content
                .attributes
                .iter()
                .map(|a| AttributeNode {
                    key: a.key.clone(),
                    value: a.value.display(),
                    number: match a.value {
                        AttributeValue::Number(n) => Some(n),
                        AttributeValue::Text(_) => None,
                    },
                    unit: a.unit.clone(),
                })
                .collect()
        })
    }

    /// Sellable variants, each with its own SKU.
    async fn variants(&self) -> Vec<VariantNode> {
        self.product.as_ref().map_or_else(Vec::new, |p| {
            p.content
                .variants
                .iter()
                .map(|v| VariantNode {
                    sku: v.sku.as_str().to_owned(),
                    options: v
                        .options
                        .iter()
                        .map(|o| VariantOptionNode {
                            name: o.name.clone(),
                            value: o.value.clone(),
                        })
                        .collect(),
                    price_delta_minor: v.price_delta_minor as i32,
                    stock_hint: v.stock_hint,
                })
                .collect()
        })
    }

    /// Pictures and videos.
    async fn media(&self) -> Vec<MediaNode> {
        self.product.as_ref().map_or_else(Vec::new, |p| {
            p.content
                .media
                .iter()
                .map(|m| MediaNode {
                    url: m.url.clone(),
                    alt: m.alt.clone(),
                })
                .collect()
        })
    }

    /// The rating summary over every review.
    async fn rating(&self) -> RatingNode {
        RatingNode(self.product.as_ref().map(|p| p.rating).unwrap_or_default())
    }

    /// Reviews, newest first. The first page (up to 5) comes from the product document itself;
    /// later pages from the reviews collection.
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ReviewPage> {
        let first = page_size(first, 10)?;
        let Some(product) = &self.product else {
            return Ok(ReviewPage::empty());
        };
        let after = after
            .map(|a| ReviewCursor::decode(&a))
            .transpose()
            .map_err(bad_input)?;
        let embedded = product.recent_reviews.len();
        let (reviews, more) = if after.is_none() && first as usize <= embedded {
            // The subset pattern: no second query for the common product page.
            let page: Vec<Review> = product.recent_reviews[..first as usize].to_vec();
            let more = product.rating.count > i64::from(first);
            (page, more)
        } else if after.is_none() && product.rating.count as usize <= embedded {
            (product.recent_reviews.clone(), false)
        } else {
            let mut rows = store(ctx)
                .reviews(&self.sku, first + 1, after.as_ref())
                .await
                .map_err(store_failed)?;
            let more = rows.len() > first as usize;
            rows.truncate(first as usize);
            (rows, more)
        };
        Ok(ReviewPage {
            end_cursor: reviews.last().map(|r| ReviewCursor::of(r).encode()),
            has_next_page: more,
            nodes: reviews.into_iter().map(ReviewNode).collect(),
        })
    }
}

/// `key: value unit`.
#[derive(SimpleObject)]
#[graphql(name = "Attribute")]
pub struct AttributeNode {
    pub key: String,
    /// The value as text (numbers without a trailing `.0`).
    pub value: String,
    /// The value when it is a number (filters compare it numerically).
    pub number: Option<f64>,
    pub unit: Option<String>,
}

#[derive(SimpleObject)]
#[graphql(name = "VariantOption")]
pub struct VariantOptionNode {
    pub name: String,
    pub value: String,
}

/// A sellable variant of a product.
#[derive(SimpleObject)]
#[graphql(name = "Variant")]
pub struct VariantNode {
    pub sku: String,
    /// What tells it apart, e.g. `colour: blue`.
    pub options: Vec<VariantOptionNode>,
    /// Added to the product's price, in minor units of its currency (may be negative).
    pub price_delta_minor: i32,
    /// Roughly how many are in stock ("only 3 left"); commerce's `available` is what sells.
    pub stock_hint: i32,
}

#[derive(SimpleObject)]
#[graphql(name = "Media")]
pub struct MediaNode {
    pub url: String,
    pub alt: String,
}

/// The rating summary, kept in step with every review.
pub struct RatingNode(RatingSummary);

#[Object(name = "Rating")]
impl RatingNode {
    async fn count(&self) -> i32 {
        i32::try_from(self.0.count).unwrap_or(i32::MAX)
    }

    /// Mean stars; null without reviews.
    async fn average(&self) -> Option<f64> {
        self.0.average()
    }

    /// Reviews by stars: the first entry counts 1-star reviews, the fifth 5-star ones.
    async fn histogram(&self) -> Vec<i32> {
        self.0
            .histogram
            .iter()
            .map(|n| i32::try_from(*n).unwrap_or(i32::MAX))
            .collect()
    }
}

/// A review by a signed-in user; one per user per product.
pub struct ReviewNode(pub Review);

#[Object(name = "Review")]
impl ReviewNode {
    async fn id(&self) -> ID {
        ID(self.0.id.as_str().to_owned())
    }

    async fn sku(&self) -> &str {
        self.0.sku.as_str()
    }

    /// 1 to 5.
    async fn rating(&self) -> i32 {
        i32::from(self.0.rating.stars())
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn body(&self) -> &str {
        &self.0.body
    }

    /// RFC 3339 in UTC with milliseconds.
    async fn created_at(&self) -> String {
        self.0
            .created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    /// Who wrote it (commerce resolves the user); null for reviews not written by a commerce
    /// user (the demo seed's reviewers), whose ids are not commerce's numeric user ids.
    async fn author(&self) -> Option<UserRef> {
        let id = &self.0.author.0;
        id.parse::<i64>()
            .is_ok()
            .then(|| UserRef { id: ID(id.clone()) })
    }
}

/// Commerce's user, referenced by id (resolved by commerce).
#[derive(SimpleObject)]
#[graphql(name = "User", unresolvable = "id")]
pub struct UserRef {
    pub id: ID,
}

/// One page of reviews, newest first.
#[derive(SimpleObject)]
pub struct ReviewPage {
    pub nodes: Vec<ReviewNode>,
    /// Pass as `after` for the next page.
    pub end_cursor: Option<String>,
    pub has_next_page: bool,
}

impl ReviewPage {
    fn empty() -> Self {
        Self {
            nodes: Vec::new(),
            end_cursor: None,
            has_next_page: false,
        }
    }
}

/// Loads products by SKU: every product a request resolves is one `products_by_skus` call.
pub struct ProductLoader {
    store: Arc<dyn CatalogStore>,
}

impl ProductLoader {
    pub fn new(store: Arc<dyn CatalogStore>) -> Self {
        Self { store }
    }
}

impl Loader<Sku> for ProductLoader {
    type Value = CatalogProduct;
    type Error = StoreError;

    async fn load(&self, keys: &[Sku]) -> Result<HashMap<Sku, CatalogProduct>, StoreError> {
        let products = self.store.products_by_skus(keys).await?;
        Ok(products
            .into_iter()
            .map(|p| (p.content.sku.clone(), p))
            .collect())
    }
}
