//! The root query: `catalogSearch`, one product by SKU, and the `Product` entity resolver.

use async_graphql::{Context, Object, Result, SimpleObject};
use polygate_kit::batch::Batcher;

use super::inputs::{AttributeFilterInput, PriceRangeInput};
use super::product::{ProductLoader, ProductNode};
use super::{bad_input, page_size, store, store_failed};
use crate::domain::{
    AttributeFilter, CategorySlug, InvalidInput, PriceRange, SearchQuery, SearchText, Sku,
};

pub struct Query;

/// One page of `catalogSearch`, in SKU order.
#[derive(SimpleObject)]
pub struct CatalogSearchPage {
    /// Products; the gateway completes price and stock from commerce by `sku`.
    pub nodes: Vec<ProductNode>,
    /// The SKU of the last node; pass as `after` for the next page.
    pub end_cursor: Option<String>,
    pub has_next_page: bool,
}

#[Object]
impl Query {
    /// Products whose content matches every condition given: `text` (every word, in the name
    /// or description), attribute `filters` (each matches one attribute, e.g.
    /// `{key: "capacity", op: GTE, value: "300"}`), a `category` at any level of the product's
    /// path, and a list-price range (USD minor units). In SKU order, `first` (1 to 100, default
    /// 20) after the SKU `after`.
    #[allow(clippy::too_many_arguments)]
    async fn catalog_search(
        &self,
        ctx: &Context<'_>,
        text: Option<String>,
        filters: Option<Vec<AttributeFilterInput>>,
        category: Option<String>,
        price_range: Option<PriceRangeInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<CatalogSearchPage> {
        let first = page_size(first, 20)?;
        let query = parse_search(text, filters, category, price_range, first + 1, after)
            .map_err(bad_input)?;
        let mut products = store(ctx).search(&query).await.map_err(store_failed)?;
        let has_next_page = products.len() > first as usize;
        products.truncate(first as usize);
        Ok(CatalogSearchPage {
            end_cursor: products.last().map(|p| p.content.sku.to_string()),
            has_next_page,
            nodes: products.into_iter().map(ProductNode::new).collect(),
        })
    }

    /// The catalog's view of one product (null only for a malformed SKU's sake never: a SKU
    /// without content reads as empty content).
    async fn catalog_product(&self, ctx: &Context<'_>, sku: String) -> Result<ProductNode> {
        load(ctx, &sku).await
    }

    /// Resolves `Product` references by SKU; N references in one request cost one store call.
    #[graphql(entity)]
    async fn find_product_by_sku(&self, ctx: &Context<'_>, sku: String) -> Result<ProductNode> {
        load(ctx, &sku).await
    }
}

async fn load(ctx: &Context<'_>, sku: &str) -> Result<ProductNode> {
    let sku = Sku::parse(sku).map_err(bad_input)?;
    let loader = ctx.data_unchecked::<Batcher<Sku, ProductLoader>>();
    let product = loader.load_one(sku.clone()).await.map_err(store_failed)?;
    Ok(ProductNode { sku, product })
}

fn parse_search(
    text: Option<String>,
    filters: Option<Vec<AttributeFilterInput>>,
    category: Option<String>,
    price_range: Option<PriceRangeInput>,
    limit: u32,
    after: Option<String>,
) -> Result<SearchQuery, InvalidInput> {
    let text = text.map(|t| SearchText::parse(&t)).transpose()?.flatten();
    let filters = filters.unwrap_or_default();
    if filters.len() > SearchQuery::MAX_FILTERS {
        return Err(InvalidInput::new(
            "filters",
            format!("at most {}", SearchQuery::MAX_FILTERS),
        ));
    }
    let filters = filters
        .iter()
        .enumerate()
        .map(|(i, f)| AttributeFilter::new(&format!("filters[{i}]"), &f.key, f.op.into(), &f.value))
        .collect::<Result<Vec<_>, _>>()?;
    let category = category
        .map(|c| CategorySlug::parse_field("category", &c))
        .transpose()?;
    let price = price_range
        .map(|p| PriceRange::new(p.min_minor.map(i64::from), p.max_minor.map(i64::from)))
        .transpose()?;
    let after = after.map(|a| Sku::parse_field("after", &a)).transpose()?;
    SearchQuery::new(text, filters, category, price, limit, after)
}
