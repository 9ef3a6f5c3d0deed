//! The `Product` entity: its fields, the catalog queries (`product`, `products`), the staff-only
//! catalog mutations (`restock`, `setPrice`) and the batch loader behind them.
//!
//! Non-obvious: `restock` and `setPrice` answer with the product read again from the store for
//! the staff member who changed it (`reader`), so the new stock or price shows even where reads
//! would otherwise go to a lagging replica.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use polygate_kit::batch::Batcher;
use polygate_kit::{ErrorCode, api_error};

use super::money::{Long, MoneyNode};
use super::{
    ReadKey, bad_input, by_reader, page_size, parse_id, reader, staff_only, store, store_failed,
};
use crate::domain::{
    CategorySlug, Currency, IdempotencyKey, Money, Product, Quantity, Restock, RestockOutcome, Sku,
    WarehouseCode,
};
use crate::ids::{ProductId, UserId};
use crate::store::{CommerceStore, StoreError};

/// A product as GraphQL shows it; anyone may see every field.
pub struct ProductNode(Product);

impl ProductNode {
    pub fn new(product: Product) -> Self {
        Self(product)
    }

    pub fn product(&self) -> &Product {
        &self.0
    }
}

/// A product of the catalog: what it is, what it costs and how many can be sold now. An entity:
/// other subgraphs reference it by `id`.
#[Object(name = "Product")]
impl ProductNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The stock-keeping unit: uppercase letters, digits, `.`, `_` and `-`.
    async fn sku(&self) -> &str {
        self.0.sku.as_str()
    }

    async fn name(&self) -> &str {
        self.0.name.as_str()
    }

    async fn description(&self) -> &str {
        &self.0.description
    }

    /// The category's slug, e.g. `kitchen`; null when uncategorised.
    async fn category(&self) -> Option<&str> {
        self.0.category.as_ref().map(CategorySlug::as_str)
    }

    /// Whether the product is for sale; a product taken off sale stays readable (old orders
    /// point at it) but `products` does not list it and orders for it are refused.
    async fn active(&self) -> bool {
        self.0.active
    }

    /// The current price in `currency` (ISO 4217); null when the product has none in it.
    async fn price(
        &self,
        #[graphql(default = "USD")] currency: String,
    ) -> Result<Option<MoneyNode>> {
        let currency = Currency::parse(&currency).map_err(bad_input)?;
        Ok(self.0.price_in(&currency).map(MoneyNode::from))
    }

    /// Every current price, one per currency.
    async fn prices(&self) -> Vec<MoneyNode> {
        self.0.prices.iter().map(MoneyNode::from).collect()
    }

    /// Units available to sell now: on hand minus reserved, over all warehouses.
    async fn available(&self) -> i32 {
        i32::try_from(self.0.available.max(0)).unwrap_or(i32::MAX)
    }
}

/// One page of active products in id order.
#[derive(SimpleObject)]
pub struct ProductPage {
    pub nodes: Vec<ProductNode>,
    /// The id of the last node; pass it as `after` for the next page.
    pub end_cursor: Option<ID>,
    pub has_next_page: bool,
}

/// Adds stock of one product to one warehouse; applied once per `idempotencyKey`.
#[derive(InputObject)]
pub struct RestockInput {
    pub sku: String,
    /// The warehouse code, e.g. `BER-1`.
    pub warehouse: String,
    /// 1 to 10000 units.
    pub quantity: i32,
    /// 1 to 100 printable ASCII characters; a retry with the same key changes nothing.
    pub idempotency_key: String,
}

/// Makes `amountMinor` the product's current price in `currency`, from now on.
#[derive(InputObject)]
pub struct SetPriceInput {
    pub sku: String,
    /// ISO 4217, e.g. `USD`.
    pub currency: String,
    /// In the currency's minor unit, 0 to 10^12.
    pub amount_minor: Long,
}

/// Loads products by id in batches of one `products_by_ids` call per reader.
pub struct ProductLoader {
    store: Arc<dyn CommerceStore>,
}

impl ProductLoader {
    pub fn new(store: Arc<dyn CommerceStore>) -> Self {
        Self { store }
    }
}

impl Loader<ReadKey<ProductId>> for ProductLoader {
    type Value = Product;
    type Error = StoreError;

    async fn load(
        &self,
        keys: &[ReadKey<ProductId>],
    ) -> Result<HashMap<ReadKey<ProductId>, Product>, StoreError> {
        let mut found = HashMap::with_capacity(keys.len());
        for (reader, ids) in by_reader(keys) {
            for product in self.store.products_by_ids(&ids, reader).await? {
                found.insert(
                    ReadKey {
                        id: product.id,
                        reader,
                    },
                    product,
                );
            }
        }
        Ok(found)
    }
}

/// Loads products by SKU (federation's second `Product` key, how catalog and search reference
/// products) in batches of one `products_by_skus` call per reader.
pub struct ProductBySkuLoader {
    store: Arc<dyn CommerceStore>,
}

impl ProductBySkuLoader {
    pub fn new(store: Arc<dyn CommerceStore>) -> Self {
        Self { store }
    }
}

impl Loader<ReadKey<Sku>> for ProductBySkuLoader {
    type Value = Product;
    type Error = StoreError;

    async fn load(
        &self,
        keys: &[ReadKey<Sku>],
    ) -> Result<HashMap<ReadKey<Sku>, Product>, StoreError> {
        let mut found = HashMap::with_capacity(keys.len());
        for (reader, skus) in by_reader(keys) {
            for product in self.store.products_by_skus(&skus, reader).await? {
                found.insert(
                    ReadKey {
                        id: product.sku.clone(),
                        reader,
                    },
                    product,
                );
            }
        }
        Ok(found)
    }
}

/// The product with `sku` through the request's batch loader, read for the viewer.
pub(crate) async fn load_product_by_sku(
    ctx: &Context<'_>,
    sku: Sku,
) -> Result<Option<ProductNode>> {
    ctx.data_unchecked::<Batcher<ReadKey<Sku>, ProductBySkuLoader>>()
        .load_one(ReadKey {
            id: sku,
            reader: reader(ctx),
        })
        .await
        .map(|product| product.map(ProductNode::new))
        .map_err(store_failed)
}

/// The product with `id` through the request's batch loader, read for the viewer.
pub(crate) async fn load_product(ctx: &Context<'_>, id: ProductId) -> Result<Option<ProductNode>> {
    load_product_for(ctx, id, reader(ctx)).await
}

async fn load_product_for(
    ctx: &Context<'_>,
    id: ProductId,
    reader: Option<UserId>,
) -> Result<Option<ProductNode>> {
    ctx.data_unchecked::<Batcher<ReadKey<ProductId>, ProductLoader>>()
        .load_one(ReadKey { id, reader })
        .await
        .map(|product| product.map(ProductNode::new))
        .map_err(store_failed)
}

/// `product(id | sku)`: exactly one of the two; null when no product matches.
pub(crate) async fn product(
    ctx: &Context<'_>,
    id: Option<ID>,
    sku: Option<String>,
) -> Result<Option<ProductNode>> {
    match (id, sku) {
        (Some(id), None) => load_product(ctx, parse_id(&id, "id", "product")?).await,
        (None, Some(sku)) => {
            let sku = Sku::parse(&sku).map_err(bad_input)?;
            let found = store(ctx)
                .products_by_skus(std::slice::from_ref(&sku), reader(ctx))
                .await
                .map_err(store_failed)?;
            Ok(found.into_iter().next().map(ProductNode::new))
        }
        _ => Err(api_error(
            ErrorCode::BadUserInput,
            "product: give exactly one of `id` and `sku`",
        )),
    }
}

/// `products(category, first, after)`: active products by id, one page.
pub(crate) async fn products(
    ctx: &Context<'_>,
    category: Option<String>,
    first: Option<i32>,
    after: Option<ID>,
) -> Result<ProductPage> {
    let first = page_size(first, 20)?;
    let category = category
        .as_deref()
        .map(CategorySlug::parse)
        .transpose()
        .map_err(bad_input)?;
    let after = after
        .as_ref()
        .map(|a| parse_id::<ProductId>(a, "after", "product"))
        .transpose()?;
    let mut products = store(ctx)
        .list_products(category.as_ref(), first + 1, after)
        .await
        .map_err(store_failed)?;
    let has_next_page = products.len() > first as usize;
    products.truncate(first as usize);
    Ok(ProductPage {
        end_cursor: products.last().map(|p| ID(p.id.to_string())),
        nodes: products.into_iter().map(ProductNode::new).collect(),
        has_next_page,
    })
}

/// `restock`: staff only; answers with the product after the stock arrived.
pub(crate) async fn restock(ctx: &Context<'_>, input: RestockInput) -> Result<ProductNode> {
    let staff = staff_only(ctx, "restock products")?;
    let sku = Sku::parse(&input.sku).map_err(bad_input)?;
    let warehouse = WarehouseCode::parse(&input.warehouse).map_err(bad_input)?;
    let quantity = Quantity::new(input.quantity, "quantity").map_err(bad_input)?;
    let key = IdempotencyKey::parse(&input.idempotency_key).map_err(bad_input)?;
    let product = product_by_sku(ctx, &sku, staff).await?;
    let restock = Restock {
        key,
        product: product.id,
        warehouse,
        quantity,
    };
    match store(ctx).restock(&restock).await.map_err(store_failed)? {
        RestockOutcome::Applied | RestockOutcome::AlreadyApplied => {}
        RestockOutcome::UnknownWarehouse => {
            return Err(api_error(
                ErrorCode::BadUserInput,
                format!(
                    "warehouse: no warehouse has the code {}",
                    restock.warehouse.as_str()
                ),
            ));
        }
        RestockOutcome::KeyReused => {
            return Err(api_error(
                ErrorCode::Conflict,
                "idempotencyKey: already used for a different restock",
            ));
        }
    }
    reread(ctx, product.id, staff).await
}

/// `setPrice`: staff only; answers with the product carrying its new price.
pub(crate) async fn set_price(ctx: &Context<'_>, input: SetPriceInput) -> Result<ProductNode> {
    let staff = staff_only(ctx, "set prices")?;
    let sku = Sku::parse(&input.sku).map_err(bad_input)?;
    let currency = Currency::parse(&input.currency).map_err(bad_input)?;
    let price = Money::new(input.amount_minor.0, currency).map_err(bad_input)?;
    let product = product_by_sku(ctx, &sku, staff).await?;
    store(ctx)
        .set_price(product.id, price)
        .await
        .map_err(store_failed)?;
    reread(ctx, product.id, staff).await
}

/// The product with `sku`, or `BAD_USER_INPUT` naming the field.
async fn product_by_sku(ctx: &Context<'_>, sku: &Sku, reader: UserId) -> Result<Product> {
    store(ctx)
        .products_by_skus(std::slice::from_ref(sku), Some(reader))
        .await
        .map_err(store_failed)?
        .into_iter()
        .next()
        .ok_or_else(|| {
            api_error(
                ErrorCode::BadUserInput,
                format!("sku: unknown SKU {}", sku.as_str()),
            )
        })
}

/// A product just written, read again as its writer sees it.
async fn reread(ctx: &Context<'_>, id: ProductId, writer: UserId) -> Result<ProductNode> {
    load_product_for(ctx, id, Some(writer))
        .await?
        .ok_or_else(|| api_error(ErrorCode::NotFound, "the product no longer exists"))
}
