//! `placeOrder`: resolve the SKUs, store the request, reserve stock, write the order; in one
//! transaction where the store can (`place_order_at_once`), else as the saga.

use std::collections::BTreeMap;

use super::crash_point;
use crate::domain::{
    Currency, IdempotencyKey, InvalidInput, LineRequest, Order, OrderRequest, PlacedAtOnce,
    PostalAddress, Quantity, RequestState, Reservation, Sku,
};
use crate::ids::{ProductId, UserId};
use crate::store::{CommerceStore, StoreError};

/// Most distinct products in one order.
pub const MAX_LINES: usize = 50;

/// A validated `placeOrder` call.
#[derive(Debug, Clone)]
pub struct PlaceOrder {
    pub user: UserId,
    pub key: IdempotencyKey,
    pub currency: Currency,
    pub lines: Vec<(Sku, Quantity)>,
    /// Where the order ships: a snapshot of one of the buyer's addresses.
    pub ship_to: PostalAddress,
}

#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error("{0}")]
    Invalid(InvalidInput),
    #[error("unknown SKU {0}")]
    UnknownSku(String),
    #[error("the idempotency key was already used for a different order")]
    KeyReused,
    #[error("not enough stock of {0}")]
    OutOfStock(String),
    #[error("{0} has no price in the order's currency")]
    NoPrice(String),
    #[error("{0} is not for sale")]
    NotForSale(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Places the order once per idempotency key: a retry returns the first call's order (or its
/// refusal), and resumes it if the first call died half way.
pub async fn place_order(store: &dyn CommerceStore, call: PlaceOrder) -> Result<Order, PlaceError> {
    let merged = merge_lines(call.lines)?;
    let skus: Vec<Sku> = merged.keys().cloned().collect();
    let products = store.product_ids_by_skus(&skus).await?;
    let mut lines = Vec::with_capacity(merged.len());
    for (sku, quantity) in &merged {
        let (_, product) = products
            .iter()
            .find(|(known, _)| known == sku)
            .ok_or_else(|| PlaceError::UnknownSku(sku.as_str().to_owned()))?;
        lines.push(LineRequest {
            product: *product,
            quantity: *quantity,
        });
    }

    let sku_of = |id: ProductId| {
        products
            .iter()
            .find(|(_, known)| *known == id)
            .map_or_else(|| id.to_string(), |(sku, _)| sku.as_str().to_owned())
    };
    let fresh = OrderRequest::new(call.user, call.key, call.currency, lines, call.ship_to);
    match store.place_order_at_once(&fresh).await? {
        Some(PlacedAtOnce::New(Reservation::Held(held))) => {
            return Ok(Order::from_reservation(&fresh, &held));
        }
        Some(PlacedAtOnce::New(refused)) => return Err(refusal(refused).named(sku_of)),
        Some(PlacedAtOnce::KeyUsed) | None => {}
    }
    let stored = store.open_order_request(&fresh).await?;
    if stored.fingerprint != fresh.fingerprint {
        return Err(PlaceError::KeyReused);
    }
    match stored.state {
        RequestState::Reserving => {
            crash_point::reached(crash_point::AFTER_OPEN);
            resume(store, &stored).await.map_err(|e| e.named(sku_of))
        }
        RequestState::Rejected => Err(PlaceError::OutOfStock(
            "an item (an earlier call with this idempotency key was refused)".to_owned(),
        )),
        RequestState::Placed
        | RequestState::Releasing
        | RequestState::Cancelled
        | RequestState::Shipping
        | RequestState::Shipped => {
            let found = store
                .orders_by_ids(&[stored.order_id], Some(call.user))
                .await?;
            found.into_iter().next().ok_or_else(|| {
                StoreError::Other(format!(
                    "order {} of a placed request is missing",
                    stored.order_id
                ))
                .into()
            })
        }
    }
}

/// Why resuming a request did not produce an order, by product id (the sweeper has no SKUs).
#[derive(Debug)]
pub(super) enum ResumeError {
    Short(ProductId),
    NoPrice(ProductId),
    NotForSale(ProductId),
    Store(StoreError),
}

impl ResumeError {
    fn named(self, sku_of: impl Fn(ProductId) -> String) -> PlaceError {
        match self {
            Self::Short(p) => PlaceError::OutOfStock(sku_of(p)),
            Self::NoPrice(p) => PlaceError::NoPrice(sku_of(p)),
            Self::NotForSale(p) => PlaceError::NotForSale(sku_of(p)),
            Self::Store(e) => PlaceError::Store(e),
        }
    }
}

impl From<StoreError> for ResumeError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Why a reservation other than `Held` refused the order.
fn refusal(refused: Reservation) -> ResumeError {
    match refused {
        Reservation::Short { product } => ResumeError::Short(product),
        Reservation::NoPrice { product } => ResumeError::NoPrice(product),
        Reservation::Unavailable { product } => ResumeError::NotForSale(product),
        Reservation::Held(_) => unreachable!("a held reservation is no refusal"),
    }
}

/// Steps 2 and 3 for a stored `Reserving` request: what a first call, a retry and the sweeper
/// all run.
pub(super) async fn resume(
    store: &dyn CommerceStore,
    request: &OrderRequest,
) -> Result<Order, ResumeError> {
    let held = match store
        .reserve_stock(request.order_id, &request.currency, &request.lines)
        .await?
    {
        Reservation::Held(held) => held,
        refused => {
            store
                .reject_order_request(request.user, &request.key)
                .await?;
            return Err(refusal(refused));
        }
    };
    crash_point::reached(crash_point::AFTER_RESERVE);
    let order = Order::from_reservation(request, &held);
    match store.record_order(&order, &request.key).await {
        Ok(()) => Ok(order),
        // A concurrent resume found the stock short and rejected the request after we reserved:
        // give our reservation back rather than hold stock for an order that will never exist.
        Err(StoreError::Conflict(_)) => {
            store.release_stock(order.id).await?;
            Err(ResumeError::Short(order.lines[0].product))
        }
        Err(e) => Err(e.into()),
    }
}

/// One line per SKU, in SKU order (a stable order for lock acquisition downstream).
fn merge_lines(lines: Vec<(Sku, Quantity)>) -> Result<BTreeMap<Sku, Quantity>, PlaceError> {
    let invalid = |reason| {
        PlaceError::Invalid(InvalidInput {
            field: "items",
            reason,
        })
    };
    if lines.is_empty() {
        return Err(invalid("must contain at least one item"));
    }
    let mut merged: BTreeMap<Sku, Quantity> = BTreeMap::new();
    for (sku, quantity) in lines {
        let total = merged.get(&sku).map_or(0, |q| q.get()) + quantity.get();
        let total = Quantity::new(total, "quantity").map_err(PlaceError::Invalid)?;
        merged.insert(sku, total);
    }
    if merged.len() > MAX_LINES {
        return Err(invalid("must contain at most 50 different products"));
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(sku: &str, quantity: i32) -> (Sku, Quantity) {
        (
            Sku::parse(sku).unwrap(),
            Quantity::new(quantity, "quantity").unwrap(),
        )
    }

    #[test]
    fn repeated_skus_are_merged_and_bounded() {
        let merged = merge_lines(vec![item("B", 1), item("A", 2), item("b", 3)]).unwrap();
        let flat: Vec<(&str, i32)> = merged.iter().map(|(s, q)| (s.as_str(), q.get())).collect();
        assert_eq!(flat, [("A", 2), ("B", 4)]);
        assert!(matches!(
            merge_lines(vec![item("A", Quantity::MAX), item("A", 1)]),
            Err(PlaceError::Invalid(_))
        ));
    }

    #[test]
    fn empty_and_oversized_orders_are_refused() {
        assert!(matches!(merge_lines(vec![]), Err(PlaceError::Invalid(_))));
        let many = (0..=MAX_LINES)
            .map(|n| item(&format!("SKU-{n}"), 1))
            .collect();
        assert!(matches!(merge_lines(many), Err(PlaceError::Invalid(_))));
    }
}
