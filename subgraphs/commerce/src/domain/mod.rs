//! The commerce model: value types that validate on construction, so a `User`, `Product` or
//! `Order` can only hold well-formed data. One file per concept.

mod address;
mod catalog;
mod order;
mod payment;
mod upkeep;
mod user;

pub use address::{
    AddAddressOutcome, Address, AddressParts, MAX_ADDRESSES_PER_USER, NewAddress, PostalAddress,
};
pub use catalog::{
    CategorySlug, Currency, Money, NewProduct, Product, ProductName, Quantity, Restock,
    RestockOutcome, Sku, WarehouseCode,
};
pub use order::{
    CancelOutcome, IdempotencyKey, LineRequest, Lines, Order, OrderCursor, OrderLine, OrderRequest,
    OrderStatus, PlacedAtOnce, RequestState, Reservation, ReservedLine, StatusChange, fingerprint,
    now_ms,
};
pub use payment::{
    NewPayment, OpenPayment, Payment, PaymentEvent, PaymentMethod, PaymentStatus, PaymentUpdate,
    ProviderRef,
};
pub use upkeep::{ArchiveReport, InventoryDrift};
pub use user::{
    DisplayName, Email, InvalidInput, NewUser, Password, PasswordHash, User, UserWithHash,
};

/// `Err(InvalidInput { field, reason })`: the one way validation fails.
pub(crate) fn invalid<T>(field: &'static str, reason: &'static str) -> Result<T, InvalidInput> {
    Err(InvalidInput { field, reason })
}
