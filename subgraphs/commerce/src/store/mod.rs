//! The commerce store port and what its adapters share: the error type, the timeout and metrics
//! wrapper every call goes through, and the mapping from `sqlx` errors.
//!
//! Non-obvious: adapters never return `sqlx::Error`; callers only ever see `Conflict`,
//! `Unavailable` (retryable: connection, pool or timeout trouble) or `Other` (a bug or bad data).

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use polygate_kit::metrics::StoreCallTimer;

use chrono::{DateTime, Utc};

use crate::domain::{
    AddAddressOutcome, Address, ArchiveReport, CancelOutcome, CategorySlug, Currency, Email,
    IdempotencyKey, InventoryDrift, LineRequest, Lines, Money, NewAddress, NewPayment, NewProduct,
    NewUser, OpenPayment, Order, OrderCursor, OrderRequest, Payment, PaymentEvent, PaymentUpdate,
    PlacedAtOnce, Product, Reservation, Restock, RestockOutcome, Sku, StatusChange, User,
    UserWithHash, WarehouseCode,
};
use crate::ids::{OrderId, PaymentId, ProductId, UserId};

pub mod conformance;
pub mod postgres;
pub mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Longest a single store call may take before it counts as `Unavailable`.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was violated (for users: the email is taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The store could not be reached or did not answer in time.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The logical shard is being moved to another database and refuses writes meanwhile. The
    /// Postgres adapter retries it itself; callers see it only when a move outlasts the retries.
    #[error("logical shard {0} is moving to another database")]
    ShardMoving(u16),
    /// Anything else: a failed query or a row that does not decode.
    #[error("store error: {0}")]
    Other(String),
}

/// Everything the commerce subgraph reads and writes: users and their orders (on the user's
/// shard), and the catalog (products, prices, stock).
///
/// Placing an order is three steps ([`open_order_request`], [`reserve_stock`],
/// [`record_order`]) that the order saga (`crate::orders`) drives, because on Postgres they may
/// run on different databases. Every step is idempotent. Where they share one database,
/// [`place_order_at_once`] runs all three in one transaction instead.
///
/// `reader` on a read is the signed-in user it is for: an adapter with read replicas uses it to
/// give that user their own writes (read-your-writes); `None` tolerates replica lag.
///
/// [`open_order_request`]: CommerceStore::open_order_request
/// [`reserve_stock`]: CommerceStore::reserve_stock
/// [`record_order`]: CommerceStore::record_order
/// [`place_order_at_once`]: CommerceStore::place_order_at_once
#[async_trait]
pub trait CommerceStore: Send + Sync {
    // ---- users -------------------------------------------------------------------------------
    /// Inserts a user; `Conflict` when the email (case-insensitively) is taken.
    async fn create_user(&self, new: NewUser) -> Result<User, StoreError>;
    /// The user with this email, with the password hash, for sign-in.
    async fn user_by_email(&self, email: &Email) -> Result<Option<UserWithHash>, StoreError>;
    /// The users among `ids` that exist, in any order, in one query per database.
    async fn users_by_ids(&self, ids: &[UserId]) -> Result<Vec<User>, StoreError>;
    /// The users among `emails` that exist, in any order: the owners in one query, then their
    /// rows as [`users_by_ids`](Self::users_by_ids) reads them.
    async fn users_by_emails(&self, emails: &[Email]) -> Result<Vec<User>, StoreError>;
    /// Up to `first` users with ids greater than `after`, ordered by id.
    async fn list_users(&self, first: u32, after: Option<UserId>) -> Result<Vec<User>, StoreError>;

    // ---- catalog -----------------------------------------------------------------------------
    /// Creates a product with its first price; `Conflict` when the SKU is taken.
    async fn create_product(&self, new: NewProduct) -> Result<Product, StoreError>;
    /// The products among `ids` that exist, in any order, in one query; each product's prices in
    /// currency order.
    async fn products_by_ids(
        &self,
        ids: &[ProductId],
        reader: Option<UserId>,
    ) -> Result<Vec<Product>, StoreError>;
    /// The products among `skus` that exist, in any order, in one query.
    async fn products_by_skus(
        &self,
        skus: &[Sku],
        reader: Option<UserId>,
    ) -> Result<Vec<Product>, StoreError>;
    /// The ids of the products among `skus` that exist, in any order, in one query. A SKU names
    /// the same product for good (SKUs are never reassigned, products never deleted), so a
    /// caller may keep the answer.
    async fn product_ids_by_skus(&self, skus: &[Sku]) -> Result<Vec<(Sku, ProductId)>, StoreError>;
    /// Up to `first` active products (of `category`, when given) with ids above `after`, by id.
    async fn list_products(
        &self,
        category: Option<&CategorySlug>,
        first: u32,
        after: Option<ProductId>,
    ) -> Result<Vec<Product>, StoreError>;
    /// Makes `price` the product's current price in its currency, from now on.
    async fn set_price(&self, product: ProductId, price: Money) -> Result<(), StoreError>;
    /// Creates the warehouse unless its code exists.
    async fn ensure_warehouse(
        &self,
        code: &WarehouseCode,
        name: &str,
        country: &str,
    ) -> Result<(), StoreError>;
    /// Adds stock, once per idempotency key.
    async fn restock(&self, restock: &Restock) -> Result<RestockOutcome, StoreError>;

    // ---- orders: the placing and cancelling steps --------------------------------------------
    /// Steps 1 to 3 in one transaction, when the buyer's shard and the catalog share a
    /// database: the rows the saga would leave, with one commit instead of three. `None` when
    /// they do not (or the adapter cannot), and the caller runs the saga.
    async fn place_order_at_once(
        &self,
        request: &OrderRequest,
    ) -> Result<Option<PlacedAtOnce>, StoreError>;
    /// Step 1 (buyer's shard): stores `request` unless the user already used its key; returns
    /// the stored request, which is the earlier one on a retry.
    async fn open_order_request(&self, request: &OrderRequest) -> Result<OrderRequest, StoreError>;
    /// Step 2 (catalog): holds stock and fixes prices for every line, all or nothing. Calling it
    /// again for the same order returns what the first call held and changes nothing.
    async fn reserve_stock(
        &self,
        order: OrderId,
        currency: &Currency,
        lines: &[LineRequest],
    ) -> Result<Reservation, StoreError>;
    /// Step 3 (buyer's shard): writes the order and marks its request placed; a repeat is a no-op.
    /// `Conflict` when the request was rejected meanwhile (its stock must then be released).
    async fn record_order(&self, order: &Order, key: &IdempotencyKey) -> Result<(), StoreError>;
    /// Marks a request rejected (nothing was reserved), so retries answer the same.
    async fn reject_order_request(
        &self,
        user: UserId,
        key: &IdempotencyKey,
    ) -> Result<(), StoreError>;
    /// Cancelling, step 1 (buyer's shard): the order becomes cancelled and its request
    /// `Releasing`. Cancelling a cancelled order returns it again.
    async fn mark_order_cancelled(&self, order: OrderId) -> Result<CancelOutcome, StoreError>;
    /// Cancelling, step 2 (catalog): gives back the stock held for `order`; a repeat gives back
    /// nothing. Returns the products whose stock came back.
    async fn release_stock(&self, order: OrderId) -> Result<Vec<ProductId>, StoreError>;
    /// Cancelling, step 3 (buyer's shard): the request is finished.
    async fn finish_cancellation(&self, order: OrderId) -> Result<(), StoreError>;
    /// Requests left `Reserving`, `Releasing` or `Shipping` since before `older_than`: work a
    /// crashed process did not finish, for the sweeper.
    async fn unfinished_order_requests(
        &self,
        older_than: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OrderRequest>, StoreError>;

    // ---- addresses (the user's shard) --------------------------------------------------------
    /// Adds an entry to the user's address book, which holds at most
    /// [`crate::domain::MAX_ADDRESSES_PER_USER`].
    async fn add_address(&self, new: &NewAddress) -> Result<AddAddressOutcome, StoreError>;
    /// The user's addresses, newest first; read from the primary (an address added a moment ago
    /// is the one the next order ships to).
    async fn addresses(&self, user: UserId) -> Result<Vec<Address>, StoreError>;

    // ---- payments (the order's shard) ----------------------------------------------------------
    /// Records a payment attempt (pending) for a pending order, or finds the one recorded under
    /// the same key. The order's row is locked while it looks, so an order never has two live
    /// attempts.
    async fn open_payment(&self, new: &NewPayment) -> Result<OpenPayment, StoreError>;
    /// Applies what the provider said, once: a repeated event is `AlreadyApplied`. Capturing
    /// makes a pending order paid; refunding makes it refunded and, if it had not shipped, moves
    /// its request to `Releasing` (`release_stock`), for `release_stock` and
    /// `finish_cancellation` to finish.
    async fn record_payment(
        &self,
        payment: PaymentId,
        event: &PaymentEvent,
    ) -> Result<PaymentUpdate, StoreError>;
    /// The payment attempts of `orders`, oldest first.
    async fn payments_of(
        &self,
        orders: &[OrderId],
        reader: Option<UserId>,
    ) -> Result<Vec<Payment>, StoreError>;

    // ---- shipping and delivery: a saga like cancelling -----------------------------------------
    /// Shipping, step 1 (buyer's shard): paid → shipped, the request `Shipping`. `Done` again for
    /// an order already shipped or delivered.
    async fn mark_order_shipping(&self, order: OrderId) -> Result<StatusChange, StoreError>;
    /// Shipping, step 2 (catalog): the order's held reservations become shipped and their units
    /// leave `on_hand` and `reserved` together; a repeat moves nothing. Returns the products.
    async fn ship_stock(&self, order: OrderId) -> Result<Vec<ProductId>, StoreError>;
    /// Shipping, step 3 (buyer's shard): the request is `Shipped`.
    async fn finish_shipping(&self, order: OrderId) -> Result<(), StoreError>;
    /// shipped → delivered (`Done` again when delivered).
    async fn mark_order_delivered(&self, order: OrderId) -> Result<StatusChange, StoreError>;

    // ---- upkeep --------------------------------------------------------------------------------
    /// Moves up to `batch` settled order requests (rejected, cancelled, shipped) and up to
    /// `batch` settled reservations (released, shipped) of orders placed before `orders_before`
    /// from the hot tables to their archives (stamped `as_of`), on every database. Requests and
    /// reservations of orders still in flight stay however old. Call again until it moves fewer
    /// than `batch` of each. After this, a request's idempotency key is free again.
    async fn archive_settled(
        &self,
        orders_before: DateTime<Utc>,
        as_of: DateTime<Utc>,
        batch: u32,
    ) -> Result<ArchiveReport, StoreError>;
    /// Orders that hold stock (held reservations, catalog) but have no order request on their
    /// shard, live or archived; at most `limit`. A running system never has one (the request is
    /// written before the stock is held, in an earlier transaction or the same one); restoring
    /// the catalog to a later moment than a shard does. After a restore, `release_stock` gives
    /// their stock back (`polygate-commerce sweep`).
    async fn stock_held_without_request(&self, limit: u32) -> Result<Vec<OrderId>, StoreError>;
    /// Stock rows whose `reserved` is not the total of their held reservations (catalog).
    /// Expected empty; anything else is a bug to investigate, never to paper over.
    async fn inventory_drift(&self) -> Result<Vec<InventoryDrift>, StoreError>;

    // ---- orders: reads ------------------------------------------------------------------------
    /// The orders among `ids` that exist, in any order, each with its lines in SKU order.
    async fn orders_by_ids(
        &self,
        ids: &[OrderId],
        reader: Option<UserId>,
    ) -> Result<Vec<Order>, StoreError>;
    /// Up to `first` of the user's orders, newest first, after `after` (keyset pagination);
    /// with their lines in SKU order, or none with [`Lines::Skip`].
    async fn order_history(
        &self,
        user: UserId,
        first: u32,
        after: Option<OrderCursor>,
        lines: Lines,
        reader: Option<UserId>,
    ) -> Result<Vec<Order>, StoreError>;

    // ---- operations --------------------------------------------------------------------------
    /// A trivial round trip to every database, for readiness.
    async fn ping(&self) -> Result<(), StoreError>;
    /// `postgres` or `sqlite`: the engine label in metrics and probes.
    fn engine(&self) -> &'static str;
}

/// Runs one store call under [`CALL_TIMEOUT`], records it in the store metrics and maps errors.
pub(crate) async fn instrumented<T>(
    engine: &'static str,
    operation: &'static str,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let timer = StoreCallTimer::start(crate::NAME, engine, operation);
    let result = match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(result) => result,
        Err(_) => Err(StoreError::Unavailable(format!(
            "{engine} {operation} timed out after {CALL_TIMEOUT:?}"
        ))),
    };
    timer.finish(result)
}

/// [`instrumented`] for a batch read: no keys means no rows, with no store call and no metric.
pub(crate) async fn instrumented_batch<K, T>(
    engine: &'static str,
    operation: &'static str,
    keys: &[K],
    call: impl Future<Output = Result<Vec<T>, StoreError>>,
) -> Result<Vec<T>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    instrumented(engine, operation, call).await
}

/// Classifies a `sqlx` error.
pub(crate) fn from_sqlx(err: sqlx::Error) -> StoreError {
    use sqlx::Error as E;
    match &err {
        E::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        // 57014: statement timeout / cancel; 57P01..03: shutdown; 40001 / 40P01: serialization
        // failure / deadlock (retryable by definition); SQLite 5 / 6 busy / locked and their
        // extended codes (261, 517, 773 busy; 262 locked shared cache).
        E::Database(db)
            if matches!(
                db.code().as_deref(),
                Some(
                    "57014"
                        | "57P01"
                        | "57P02"
                        | "57P03"
                        | "40001"
                        | "40P01"
                        | "5"
                        | "6"
                        | "261"
                        | "262"
                        | "517"
                        | "773"
                )
            ) =>
        {
            StoreError::Unavailable(err.to_string())
        }
        E::Io(_) | E::Tls(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => {
            StoreError::Unavailable(err.to_string())
        }
        _ => StoreError::Other(err.to_string()),
    }
}

/// A stored row that fails the domain rules; only a bug or a manual edit produces one.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("corrupt row: {what}"))
}
