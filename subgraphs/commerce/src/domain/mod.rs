//! The commerce model: value types that validate on construction, so a `User`, `Product` or
//! `Order` can only hold well-formed data. One file per concept.

mod catalog;
mod order;
mod user;

pub use catalog::{
    CategorySlug, Currency, Money, NewProduct, Product, ProductName, Quantity, Restock,
    RestockOutcome, Sku, WarehouseCode,
};
pub use order::{
    CancelOutcome, IdempotencyKey, LineRequest, Lines, Order, OrderCursor, OrderLine, OrderRequest,
    OrderStatus, PlacedAtOnce, RequestState, Reservation, ReservedLine, fingerprint, now_ms,
};
pub use user::{
    DisplayName, Email, InvalidInput, NewUser, Password, PasswordHash, User, UserWithHash,
};

/// `Err(InvalidInput { field, reason })`: the one way validation fails.
pub(crate) fn invalid<T>(field: &'static str, reason: &'static str) -> Result<T, InvalidInput> {
    Err(InvalidInput { field, reason })
}
