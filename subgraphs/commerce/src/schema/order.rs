//! The `Order` entity: its fields, who may see it, the order queries and mutations
//! (`order`, `User.orders`, `placeOrder`, `cancelOrder`) and the batch loader behind them.
//!
//! Non-obvious: an [`OrderNode`] is only ever built after the viewer was checked to be the
//! buyer or staff (every path here goes through [`visible_order`] or loads the viewer's own
//! orders), so its fields need no further checks; the `Order` entity resolver, which other
//! subgraphs reach through the gateway, applies the same check.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::SecondsFormat;
use polygate_kit::batch::Batcher;
use polygate_kit::{ErrorCode, Viewer, api_error};

use super::address::ShippingAddress;
use super::money::MoneyNode;
use super::payment::{PaymentLoader, PaymentNode};
use super::product::{ProductNode, load_product};
use super::user::{UserNode, load_user};
use super::{
    ReadKey, bad_input, by_reader, may_see, page_size, parse_id, reader, signed_in, store,
    store_failed,
};
use crate::domain::{
    Currency, IdempotencyKey, InvalidInput, Lines, Order, OrderCursor, OrderLine, OrderStatus,
    Quantity, Sku,
};
use crate::ids::{OrderId, UserId};
use crate::orders::{self, CancelError, MAX_LINES, PlaceError, PlaceOrder};
use crate::store::{CommerceStore, StoreError};

/// An order as GraphQL shows it, to its buyer or to staff.
pub struct OrderNode(Order);

impl OrderNode {
    pub(crate) fn new(order: Order) -> Self {
        Self(order)
    }

    pub fn order(&self) -> &Order {
        &self.0
    }
}

/// Where an order stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "OrderStatus")]
pub enum OrderStatusNode {
    /// Placed, stock held, not yet paid.
    Pending,
    Paid,
    Shipped,
    Delivered,
    Cancelled,
    Refunded,
}

impl From<OrderStatus> for OrderStatusNode {
    fn from(status: OrderStatus) -> Self {
        match status {
            OrderStatus::Pending => Self::Pending,
            OrderStatus::Paid => Self::Paid,
            OrderStatus::Shipped => Self::Shipped,
            OrderStatus::Delivered => Self::Delivered,
            OrderStatus::Cancelled => Self::Cancelled,
            OrderStatus::Refunded => Self::Refunded,
        }
    }
}

/// An order, visible to its buyer and to staff only. An entity: other subgraphs reference it by
/// `id`, and resolving it applies the same rule.
#[Object(name = "Order")]
impl OrderNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn status(&self) -> OrderStatusNode {
        self.0.status.into()
    }

    /// ISO 4217 code every amount of the order is in.
    async fn currency(&self) -> &str {
        self.0.currency.as_str()
    }

    /// The sum of quantity × unit price over the lines.
    async fn total(&self) -> MoneyNode {
        MoneyNode::new(self.0.total_minor, &self.0.currency)
    }

    /// One line per product, at the price it sold for.
    async fn lines(&self) -> Vec<OrderLineNode> {
        self.0
            .lines
            .iter()
            .map(|line| OrderLineNode {
                line: line.clone(),
                currency: self.0.currency.clone(),
            })
            .collect()
    }

    /// When the order was placed, RFC 3339 in UTC with milliseconds.
    async fn created_at(&self) -> String {
        self.0
            .created_at
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// The buyer.
    async fn user(&self, ctx: &Context<'_>) -> Result<Option<UserNode>> {
        load_user(ctx, self.0.user).await
    }

    /// Where the order ships: a copy of the buyer's address taken when it was placed (null only
    /// for orders placed before addresses existed).
    async fn ship_to(&self) -> Option<ShippingAddress> {
        self.0.ship_to.as_ref().map(ShippingAddress::from)
    }

    /// The attempts to pay it, oldest first; one store call per page of orders.
    async fn payments(&self, ctx: &Context<'_>) -> Result<Vec<PaymentNode>> {
        let found = ctx
            .data_unchecked::<Batcher<ReadKey<OrderId>, PaymentLoader>>()
            .load_one(ReadKey {
                id: self.0.id,
                reader: reader(ctx),
            })
            .await
            .map_err(store_failed)?;
        Ok(found
            .unwrap_or_default()
            .into_iter()
            .map(PaymentNode::new)
            .collect())
    }
}

/// One product of an order, as sold: SKU and unit price are copies taken when it was placed.
pub struct OrderLineNode {
    line: OrderLine,
    currency: Currency,
}

#[Object(name = "OrderLine")]
impl OrderLineNode {
    async fn sku(&self) -> &str {
        self.line.sku.as_str()
    }

    async fn quantity(&self) -> i32 {
        self.line.quantity.get()
    }

    /// The price of one unit when the order was placed.
    async fn unit_price(&self) -> MoneyNode {
        MoneyNode::new(self.line.unit_price_minor, &self.currency)
    }

    /// The product as it is now; null if it no longer exists.
    async fn product(&self, ctx: &Context<'_>) -> Result<Option<ProductNode>> {
        load_product(ctx, self.line.product).await
    }
}

/// One page of a user's orders, newest first.
#[derive(SimpleObject)]
pub struct OrderPage {
    pub nodes: Vec<OrderNode>,
    /// Where this page ends; pass it as `after` for the next page.
    pub end_cursor: Option<String>,
    pub has_next_page: bool,
}

/// An order to place: what to buy, in which currency, and a key that makes retrying safe.
#[derive(InputObject)]
pub struct PlaceOrderInput {
    /// 1 to 50 items; items with the same SKU are added together.
    pub items: Vec<OrderItemInput>,
    /// ISO 4217; every item must have a price in it.
    #[graphql(default_with = "String::from(\"USD\")")]
    pub currency: String,
    /// 1 to 100 printable ASCII characters, chosen by the client per order: sending the same
    /// order again with the same key returns the first order instead of placing another.
    pub idempotency_key: String,
    /// The id of an entry of the buyer's address book; the newest entry when omitted. The
    /// order keeps a copy of it.
    pub ship_to: Option<ID>,
}

#[derive(InputObject)]
pub struct OrderItemInput {
    pub sku: String,
    /// 1 to 10000 units.
    pub quantity: i32,
}

/// Loads orders by id in batches of one `orders_by_ids` call per reader.
pub struct OrderLoader {
    store: Arc<dyn CommerceStore>,
}

impl OrderLoader {
    pub fn new(store: Arc<dyn CommerceStore>) -> Self {
        Self { store }
    }
}

impl Loader<ReadKey<OrderId>> for OrderLoader {
    type Value = Order;
    type Error = StoreError;

    async fn load(
        &self,
        keys: &[ReadKey<OrderId>],
    ) -> Result<HashMap<ReadKey<OrderId>, Order>, StoreError> {
        let mut found = HashMap::with_capacity(keys.len());
        for (reader, ids) in by_reader(keys) {
            for order in self.store.orders_by_ids(&ids, reader).await? {
                found.insert(
                    ReadKey {
                        id: order.id,
                        reader,
                    },
                    order,
                );
            }
        }
        Ok(found)
    }
}

/// The order with `id` if the viewer may see it: `UNAUTHENTICATED` without a session,
/// `FORBIDDEN` when it is someone else's (and the viewer is not staff), `None` when missing.
pub(crate) async fn visible_order(ctx: &Context<'_>, id: OrderId) -> Result<Option<Order>> {
    let (viewer, viewer_id) = signed_in(ctx)?;
    let order = ctx
        .data_unchecked::<Batcher<ReadKey<OrderId>, OrderLoader>>()
        .load_one(ReadKey {
            id,
            reader: Some(viewer_id),
        })
        .await
        .map_err(store_failed)?;
    match order {
        Some(order) if !may_see(Some(viewer), order.user) => Err(api_error(
            ErrorCode::Forbidden,
            "only the buyer and staff may see an order",
        )),
        found => Ok(found),
    }
}

/// `order(id)`: `NOT_FOUND` when there is no such order.
pub(crate) async fn order(ctx: &Context<'_>, id: ID) -> Result<Option<OrderNode>> {
    let id = parse_id::<OrderId>(&id, "id", "order")?;
    match visible_order(ctx, id).await? {
        Some(order) => Ok(Some(OrderNode::new(order))),
        None => Err(not_found()),
    }
}

/// The `Order` entity resolver: null when there is no such order.
pub(crate) async fn find_order(ctx: &Context<'_>, id: ID) -> Result<Option<OrderNode>> {
    let id = parse_id::<OrderId>(&id, "id", "order")?;
    Ok(visible_order(ctx, id).await?.map(OrderNode::new))
}

/// `User.orders`: the user's orders newest first, for the user (`owner` when the caller just
/// proved to be them) or staff.
pub(crate) async fn history(
    ctx: &Context<'_>,
    user: UserId,
    owner: bool,
    first: Option<i32>,
    after: Option<String>,
) -> Result<OrderPage> {
    let viewer = ctx.data_opt::<Viewer>();
    if !owner && !may_see(viewer, user) {
        return Err(match viewer {
            None => api_error(ErrorCode::Unauthenticated, "sign in to see orders"),
            Some(_) => api_error(
                ErrorCode::Forbidden,
                "only the user and staff may see a user's orders",
            ),
        });
    }
    let first = page_size(first, 10)?;
    let after = after
        .as_deref()
        .map(str::parse::<OrderCursor>)
        .transpose()
        .map_err(bad_input)?;
    let reader = reader(ctx).or(Some(user));
    // Lines cost a second query; load them only for a query that selects them.
    let lines = if ctx.look_ahead().field("nodes").field("lines").exists() {
        Lines::Load
    } else {
        Lines::Skip
    };
    let mut orders = store(ctx)
        .order_history(user, first + 1, after, lines, reader)
        .await
        .map_err(store_failed)?;
    let has_next_page = orders.len() > first as usize;
    orders.truncate(first as usize);
    Ok(OrderPage {
        end_cursor: orders.last().map(|o| {
            OrderCursor {
                created_at: o.created_at,
                id: o.id,
            }
            .to_string()
        }),
        nodes: orders.into_iter().map(OrderNode::new).collect(),
        has_next_page,
    })
}

/// `placeOrder`: validates every field, then runs the order saga for the viewer.
pub(crate) async fn place(ctx: &Context<'_>, input: PlaceOrderInput) -> Result<OrderNode> {
    let (_, buyer) = signed_in(ctx)?;
    let key = IdempotencyKey::parse(&input.idempotency_key).map_err(bad_input)?;
    let currency = Currency::parse(&input.currency).map_err(bad_input)?;
    let lines = parse_items(&input.items)?;
    let call = PlaceOrder {
        user: buyer,
        key,
        currency,
        lines,
        ship_to: super::address::ship_to(ctx, buyer, input.ship_to.as_ref()).await?,
    };
    let currency = call.currency.clone();
    orders::place_order(store(ctx).as_ref(), call)
        .await
        .map(OrderNode::new)
        .map_err(|e| place_failed(e, &currency))
}

/// The items of `placeOrder`, each field checked, errors naming the item: `items[2].quantity`.
fn parse_items(items: &[OrderItemInput]) -> Result<Vec<(Sku, Quantity)>> {
    if items.len() > MAX_LINES {
        return Err(api_error(
            ErrorCode::BadUserInput,
            format!("items: must contain at most {MAX_LINES} items"),
        ));
    }
    let item_error = |index: usize, err: InvalidInput| {
        api_error(
            ErrorCode::BadUserInput,
            format!("items[{index}].{}: {}", err.field, err.reason),
        )
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let sku = Sku::parse(&item.sku).map_err(|e| item_error(index, e))?;
            let quantity =
                Quantity::new(item.quantity, "quantity").map_err(|e| item_error(index, e))?;
            Ok((sku, quantity))
        })
        .collect()
}

/// How a refused `placeOrder` reads to the client.
fn place_failed(err: PlaceError, currency: &Currency) -> async_graphql::Error {
    let bad = |message: String| api_error(ErrorCode::BadUserInput, message);
    match err {
        // The only check left to the saga that names no input field: merged lines of one SKU.
        PlaceError::Invalid(InvalidInput {
            field: "quantity",
            reason,
        }) => bad(format!(
            "items: the quantities of one SKU together {reason}"
        )),
        PlaceError::Invalid(invalid) => bad_input(invalid),
        PlaceError::UnknownSku(sku) => bad(format!("items: unknown SKU {sku}")),
        PlaceError::NoPrice(sku) => bad(format!(
            "items: {sku} has no price in {}",
            currency.as_str()
        )),
        PlaceError::NotForSale(sku) => bad(format!("items: {sku} is not for sale")),
        PlaceError::KeyReused => api_error(
            ErrorCode::Conflict,
            "idempotencyKey: already used for a different order",
        ),
        PlaceError::OutOfStock(what) => {
            api_error(ErrorCode::OutOfStock, format!("not enough stock of {what}"))
        }
        PlaceError::Store(e) => store_failed(e),
    }
}

/// `cancelOrder`: the buyer or staff; the stock goes back.
pub(crate) async fn cancel(ctx: &Context<'_>, id: ID) -> Result<OrderNode> {
    let id = parse_id::<OrderId>(&id, "id", "order")?;
    if visible_order(ctx, id).await?.is_none() {
        return Err(not_found());
    }
    match orders::cancel_order(store(ctx).as_ref(), id).await {
        Ok(order) => Ok(OrderNode::new(order)),
        Err(CancelError::NotFound) => Err(not_found()),
        Err(CancelError::NotCancellable(OrderStatus::Paid)) => Err(api_error(
            ErrorCode::Conflict,
            "id: the order is paid and can no longer be cancelled; staff can refund it",
        )),
        Err(CancelError::NotCancellable(status)) => Err(api_error(
            ErrorCode::Conflict,
            format!(
                "id: the order is {} and can no longer be cancelled",
                status.as_str()
            ),
        )),
        Err(CancelError::PaymentInProgress) => Err(api_error(
            ErrorCode::Conflict,
            "id: a payment of the order is under way; it cannot be cancelled now",
        )),
        Err(CancelError::Store(e)) => Err(store_failed(e)),
    }
}

pub(crate) fn not_found() -> async_graphql::Error {
    api_error(ErrorCode::NotFound, "id: no such order")
}
