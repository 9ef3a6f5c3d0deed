//! Orders, their lines, and the request log that makes placing and cancelling them safe to
//! retry and to resume after a crash.
//!
//! Non-obvious: an order is placed in three steps on up to two databases (record the request on
//! the buyer's shard, reserve stock in the catalog database, write the order on the shard). The
//! [`OrderRequest`] row written first carries everything needed to finish or undo the rest, so a
//! retry with the same idempotency key, or the sweeper, resumes instead of starting over.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Currency, InvalidInput, PostalAddress, Quantity, Sku, invalid};
use crate::ids::{OrderId, ProductId, UserId, WarehouseId};

/// A client-chosen key that makes a write safe to retry: 1 to 100 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        const F: &str = "idempotencyKey";
        if raw.is_empty() || raw.len() > 100 {
            return invalid(F, "must have 1 to 100 characters");
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return invalid(F, "must be printable ASCII without spaces");
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderStatus {
    Pending,
    Paid,
    Shipped,
    Delivered,
    Cancelled,
    Refunded,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Paid,
            Self::Shipped,
            Self::Delivered,
            Self::Cancelled,
            Self::Refunded,
        ]
        .into_iter()
        .find(|s| s.as_str() == stored)
    }

    /// Only an unpaid order can be cancelled (its stock goes back); a paid one is refunded.
    pub fn cancellable(self) -> bool {
        matches!(self, Self::Pending)
    }

    /// Only a paid order ships.
    pub fn shippable(self) -> bool {
        matches!(self, Self::Paid)
    }

    /// Money goes back only where it was taken: paid, shipped or delivered orders.
    pub fn refundable(self) -> bool {
        matches!(self, Self::Paid | Self::Shipped | Self::Delivered)
    }
}

/// One product and quantity a buyer asks for, after its SKU was resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRequest {
    pub product: ProductId,
    pub quantity: Quantity,
}

/// Stock held in one warehouse for one line of an order, at the price it sold for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservedLine {
    pub product: ProductId,
    pub sku: Sku,
    pub warehouse: WarehouseId,
    pub quantity: Quantity,
    pub unit_price_minor: i64,
}

/// The outcome of reserving stock for a whole order: all lines or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    Held(Vec<ReservedLine>),
    /// Not enough stock of `product` in any one warehouse; nothing was reserved.
    Short {
        product: ProductId,
    },
    /// `product` has no current price in the order's currency; nothing was reserved.
    NoPrice {
        product: ProductId,
    },
    /// `product` does not exist or is not for sale; nothing was reserved.
    Unavailable {
        product: ProductId,
    },
}

/// Whether a read of orders fills in their lines: a page that shows no lines skips the second
/// query (about a third of an order history's database time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    Load,
    /// Every order comes back with no lines.
    Skip,
}

/// What placing an order in one transaction did (an adapter whose buyer's shard and catalog
/// share a database runs the saga's three steps at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlacedAtOnce {
    /// The key was new. `Held`: the order is written and its request placed. Anything else: the
    /// request is stored rejected and nothing is held, as the saga would have left it.
    New(Reservation),
    /// The user had used the key before and nothing was written: carry on from the stored
    /// request (`open_order_request` returns it).
    KeyUsed,
}

/// Where an order's stock stands in its request's saga: placing (`Reserving` → `Placed` or
/// `Rejected`), giving the stock back on a cancellation or a refund before shipping
/// (`Releasing` → `Cancelled`), or shipping it (`Shipping` → `Shipped`). `Reserving`,
/// `Releasing` and `Shipping` are the unfinished states a retry or the sweeper resumes;
/// `Rejected`, `Cancelled` and `Shipped` are settled (the request may then be archived).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RequestState {
    Reserving,
    Placed,
    Rejected,
    Releasing,
    Cancelled,
    Shipping,
    Shipped,
}

impl RequestState {
    const ALL: [Self; 7] = [
        Self::Reserving,
        Self::Placed,
        Self::Rejected,
        Self::Releasing,
        Self::Cancelled,
        Self::Shipping,
        Self::Shipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reserving => "reserving",
            Self::Placed => "placed",
            Self::Rejected => "rejected",
            Self::Releasing => "releasing",
            Self::Cancelled => "cancelled",
            Self::Shipping => "shipping",
            Self::Shipped => "shipped",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == stored)
    }

    /// A crashed process may have left the saga here; the sweeper finishes it.
    pub fn unfinished(self) -> bool {
        matches!(self, Self::Reserving | Self::Releasing | Self::Shipping)
    }
}

/// The durable record of one `placeOrder` call, written before anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequest {
    pub user: UserId,
    pub key: IdempotencyKey,
    /// sha256 of the currency and lines: the same key with a different request is refused.
    pub fingerprint: String,
    pub order_id: OrderId,
    pub created_at: DateTime<Utc>,
    pub currency: Currency,
    pub lines: Vec<LineRequest>,
    /// Where the order ships; `None` only on requests stored before addresses existed.
    pub ship_to: Option<PostalAddress>,
    pub state: RequestState,
}

impl OrderRequest {
    /// A new request with a fresh order id on the buyer's shard, created now. `created_at` is
    /// the instant in the id, so an order id alone names its month partition.
    pub fn new(
        user: UserId,
        key: IdempotencyKey,
        currency: Currency,
        lines: Vec<LineRequest>,
        ship_to: PostalAddress,
    ) -> Self {
        let order_id = OrderId::new(user.shard());
        Self {
            fingerprint: fingerprint(&currency, &lines),
            order_id,
            created_at: order_id.created_at(),
            user,
            key,
            currency,
            lines,
            ship_to: Some(ship_to),
            state: RequestState::Reserving,
        }
    }
}

/// A stable digest of what was asked for; line order matters no more than it does to a buyer.
pub fn fingerprint(currency: &Currency, lines: &[LineRequest]) -> String {
    let mut sorted: Vec<(i64, i32)> = lines
        .iter()
        .map(|l| (l.product.as_i64(), l.quantity.get()))
        .collect();
    sorted.sort_unstable();
    let mut hasher = Sha256::new();
    hasher.update(currency.as_str());
    for (product, quantity) in sorted {
        hasher.update(format!("|{product}x{quantity}"));
    }
    hex::encode(hasher.finalize())
}

/// The current instant at millisecond precision, which both engines store exactly.
pub fn now_ms() -> DateTime<Utc> {
    let ms = Utc::now().timestamp_millis();
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_else(Utc::now)
}

/// One line of a placed order, as sold (SKU and price are copies, see the design doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub product: ProductId,
    pub sku: Sku,
    pub quantity: Quantity,
    pub unit_price_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub user: UserId,
    pub status: OrderStatus,
    pub currency: Currency,
    pub total_minor: i64,
    pub lines: Vec<OrderLine>,
    /// The snapshot of the address it ships to; `None` only on orders placed before addresses
    /// existed (their stored `ship_to` is `{}`).
    pub ship_to: Option<PostalAddress>,
    pub created_at: DateTime<Utc>,
}

impl Order {
    /// The order a request becomes once its stock is held.
    pub fn from_reservation(request: &OrderRequest, held: &[ReservedLine]) -> Self {
        let lines: Vec<OrderLine> = held
            .iter()
            .map(|r| OrderLine {
                product: r.product,
                sku: r.sku.clone(),
                quantity: r.quantity,
                unit_price_minor: r.unit_price_minor,
            })
            .collect();
        Self {
            id: request.order_id,
            user: request.user,
            status: OrderStatus::Pending,
            currency: request.currency.clone(),
            total_minor: lines
                .iter()
                .map(|l| i64::from(l.quantity.get()) * l.unit_price_minor)
                .sum(),
            lines,
            ship_to: request.ship_to.clone(),
            created_at: request.created_at,
        }
    }
}

/// What cancelling did on the buyer's shard.
// One value per store call, never held in bulk: boxing the order would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The order is now cancelled (or already was); its stock is to be released.
    Cancelled(Order),
    /// The order exists but was paid (refund it instead), has shipped or was refunded.
    NotCancellable(OrderStatus),
    /// A payment for the order is under way; cancelling now could leave it charged.
    PaymentInProgress,
    NotFound,
}

/// What a status change after payment (shipping, delivery) did on the buyer's shard.
// One value per store call, never held in bulk: boxing the order would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusChange {
    /// The order moved (or had already moved) to the asked status.
    Done(Order),
    /// The order is in a status the change cannot start from.
    Refused(OrderStatus),
    NotFound,
}

/// A position in a user's order history (newest first): the last order of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderCursor {
    pub created_at: DateTime<Utc>,
    pub id: OrderId,
}

impl fmt::Display for OrderCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.created_at.timestamp_millis(), self.id)
    }
}

impl FromStr for OrderCursor {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidInput {
            field: "after",
            reason: "not a cursor this API returned",
        };
        let (ms, id) = s.split_once('.').ok_or_else(bad)?;
        let ms: i64 = ms.parse().map_err(|_| bad())?;
        Ok(Self {
            created_at: Utc.timestamp_millis_opt(ms).single().ok_or_else(bad)?,
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(product: i64, quantity: i32) -> LineRequest {
        LineRequest {
            product: ProductId::from_i64(product).unwrap(),
            quantity: Quantity::new(quantity, "quantity").unwrap(),
        }
    }

    #[test]
    fn keys_are_bounded_printable_ascii() {
        assert!(IdempotencyKey::parse("checkout-42").is_ok());
        for bad in ["", "has space", "tab\t", "é", &"k".repeat(101)] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_fingerprint_ignores_line_order_but_not_content() {
        let usd = Currency::usd();
        let a = fingerprint(&usd, &[line(1, 2), line(3, 4)]);
        assert_eq!(a, fingerprint(&usd, &[line(3, 4), line(1, 2)]));
        assert_ne!(a, fingerprint(&usd, &[line(1, 2), line(3, 5)]));
        assert_ne!(
            a,
            fingerprint(&Currency::parse("EUR").unwrap(), &[line(1, 2), line(3, 4)])
        );
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = OrderCursor {
            created_at: now_ms(),
            id: OrderId::new(5),
        };
        assert_eq!(cursor.to_string().parse::<OrderCursor>(), Ok(cursor));
        for bad in ["", "1", "x.1", "1.x", "1.-2"] {
            assert!(bad.parse::<OrderCursor>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn statuses_round_trip_through_storage() {
        for s in [
            "pending",
            "paid",
            "shipped",
            "delivered",
            "cancelled",
            "refunded",
        ] {
            assert_eq!(OrderStatus::parse(s).unwrap().as_str(), s);
        }
        assert!(OrderStatus::Pending.cancellable() && !OrderStatus::Paid.cancellable());
        assert!(OrderStatus::Paid.shippable() && !OrderStatus::Pending.shippable());
        assert!(!OrderStatus::Pending.refundable() && OrderStatus::Delivered.refundable());
    }
}
