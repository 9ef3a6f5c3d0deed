//! [`CachingStore`]: a [`CommerceStore`] that answers product reads by id from a
//! [`ProductCache`] first and invalidates it after every write that changes a price or a stock
//! level.
//!
//! Non-obvious decisions:
//! - Cache-aside with delete-on-write, not write-through: a writer knows one price or one stock
//!   delta, not the whole product document (all prices, stock summed over warehouses), so it
//!   would have to read the product back to write it, and two writers doing that race to put the
//!   older document last. A delete is idempotent and commutes with any other delete.
//! - Only `products_by_ids` reads through the cache: it is what entity resolution calls for
//!   every `Product` reference. `products_by_skus` goes to the store and fills the cache with
//!   what it read. `list_products` pages go to the store and do not fill, so a scan of the
//!   catalogue cannot evict the hot set.
//! - `product_ids_by_skus` (every `placeOrder`) is answered from an in-process SKU→id map kept
//!   for good, whatever the cache backend: a SKU names the same product forever, so the map
//!   needs no invalidation and no shared cache. It is bounded (emptied when full).
//! - A write whose outcome is unknown (`Unavailable`: it may have committed before the timeout)
//!   invalidates as if it had succeeded, and so does a retry that finds its work already done
//!   (`AlreadyApplied`, a repeated `Held`): the first attempt may have crashed between commit and
//!   invalidation, and the retry is then what repairs the cache.
//! - The cache can only make reads cheaper, never fail them: on a cache error the lookup counts
//!   as `error` and the store answers. Readiness (`ping`) does not include the cache either.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{CacheError, ProductCache};
use crate::domain::{
    AddAddressOutcome, Address, ArchiveReport, CancelOutcome, CategorySlug, Currency, Email,
    IdempotencyKey, InventoryDrift, LineRequest, Lines, Money, NewAddress, NewPayment, NewProduct,
    NewUser, OpenPayment, Order, OrderCursor, OrderRequest, Payment, PaymentEvent, PaymentUpdate,
    PlacedAtOnce, Product, Reservation, Restock, RestockOutcome, Sku, StatusChange, User,
    UserWithHash, WarehouseCode,
};
use crate::ids::{OrderId, PaymentId, ProductId, UserId};
use crate::store::{CommerceStore, StoreError};

/// The `cache` label of this cache in `polygate_cache_lookups_total` and
/// `polygate_cache_hit_ratio`.
pub const CACHE_NAME: &str = "product";

/// Most SKUs the in-process SKU→id map holds before it starts over.
const MAX_SKU_IDS: usize = 100_000;

pub struct CachingStore {
    store: Arc<dyn CommerceStore>,
    cache: Arc<dyn ProductCache>,
    sku_ids: Mutex<HashMap<Sku, ProductId>>,
}

impl CachingStore {
    pub fn new(store: Arc<dyn CommerceStore>, cache: Arc<dyn ProductCache>) -> Self {
        Self {
            store,
            cache,
            sku_ids: Mutex::new(HashMap::new()),
        }
    }

    /// The cache in front of the store.
    pub fn cache(&self) -> &Arc<dyn ProductCache> {
        &self.cache
    }

    /// The cached products among `ids` (distinct), counting hits and misses; empty when the
    /// cache fails, which counts every id as `error`.
    async fn look_up(&self, ids: &[ProductId]) -> HashMap<ProductId, Product> {
        match self.cache.get_many(ids).await {
            Ok(found) => {
                let hits = found.len() as u64;
                let misses = ids.len() as u64 - hits;
                polygate_kit::metrics::record_cache_lookups(CACHE_NAME, hits, misses, 0);
                found
            }
            Err(e) => {
                polygate_kit::metrics::record_cache_lookups(CACHE_NAME, 0, 0, ids.len() as u64);
                self.log_failure("read", &e);
                HashMap::new()
            }
        }
    }

    /// Stores what a read returned; a failure only costs a later miss.
    async fn fill(&self, products: &[Product], ticket: super::FillTicket) {
        if products.is_empty() {
            return;
        }
        if let Err(e) = self.cache.put_many(products, ticket).await {
            self.log_failure("fill", &e);
        }
    }

    /// Drops `ids` from the cache after a write; a failure leaves them stale for at most the
    /// TTL, which is logged.
    async fn invalidate(&self, ids: impl IntoIterator<Item = ProductId>) {
        let mut ids: Vec<ProductId> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return;
        }
        if let Err(e) = self.cache.invalidate(&ids).await {
            tracing::warn!(
                cache = self.cache.kind(),
                error = %e,
                products = ids.len(),
                "product cache: invalidation failed; the products may read stale until the TTL"
            );
        }
    }

    /// Invalidates the products of `order`'s lines, when the order can be read.
    async fn invalidate_lines_of(&self, order: OrderId) {
        match self.store.orders_by_ids(&[order], None).await {
            Ok(orders) => {
                let products: Vec<ProductId> = orders
                    .iter()
                    .flat_map(|o| o.lines.iter().map(|l| l.product))
                    .collect();
                self.invalidate(products).await;
            }
            Err(e) => tracing::warn!(
                %order,
                error = %e,
                "product cache: cannot tell which products a release touched; \
                 they may read stale until the TTL"
            ),
        }
    }

    fn log_failure(&self, what: &'static str, e: &CacheError) {
        // The connection path logs the outage itself once per attempt; per-call noise is debug.
        tracing::debug!(cache = self.cache.kind(), error = %e, "product cache {what} failed");
    }
}

/// Whether a failed write may still have committed (it timed out or lost its connection).
fn may_have_applied<T>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Unavailable(_)))
}

#[async_trait]
impl CommerceStore for CachingStore {
    // ---- users: unchanged ---------------------------------------------------------------------
    async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        self.store.create_user(new).await
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<UserWithHash>, StoreError> {
        self.store.user_by_email(email).await
    }

    async fn users_by_ids(&self, ids: &[UserId]) -> Result<Vec<User>, StoreError> {
        self.store.users_by_ids(ids).await
    }

    async fn users_by_emails(&self, emails: &[Email]) -> Result<Vec<User>, StoreError> {
        self.store.users_by_emails(emails).await
    }

    async fn list_users(&self, first: u32, after: Option<UserId>) -> Result<Vec<User>, StoreError> {
        self.store.list_users(first, after).await
    }

    // ---- catalog ------------------------------------------------------------------------------
    async fn create_product(&self, new: NewProduct) -> Result<Product, StoreError> {
        let id = new.id;
        let result = self.store.create_product(new).await;
        // Absence is never cached, so this only guards against an id reused by hand.
        if result.is_ok() || may_have_applied(&result) {
            self.invalidate([id]).await;
        }
        result
    }

    async fn products_by_ids(
        &self,
        ids: &[ProductId],
        reader: Option<UserId>,
    ) -> Result<Vec<Product>, StoreError> {
        let mut seen = HashSet::with_capacity(ids.len());
        let distinct: Vec<ProductId> = ids.iter().copied().filter(|id| seen.insert(*id)).collect();
        if distinct.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = self.look_up(&distinct).await;
        let misses: Vec<ProductId> = distinct
            .iter()
            .copied()
            .filter(|id| !found.contains_key(id))
            .collect();
        let mut products: Vec<Product> = Vec::with_capacity(distinct.len());
        if !misses.is_empty() {
            let ticket = self.cache.ticket();
            let loaded = self.store.products_by_ids(&misses, reader).await?;
            self.fill(&loaded, ticket).await;
            products.extend(loaded);
        }
        products.extend(distinct.iter().filter_map(|id| found.remove(id)));
        Ok(products)
    }

    async fn products_by_skus(
        &self,
        skus: &[Sku],
        reader: Option<UserId>,
    ) -> Result<Vec<Product>, StoreError> {
        let ticket = self.cache.ticket();
        let products = self.store.products_by_skus(skus, reader).await?;
        self.fill(&products, ticket).await;
        Ok(products)
    }

    async fn product_ids_by_skus(&self, skus: &[Sku]) -> Result<Vec<(Sku, ProductId)>, StoreError> {
        let mut known = Vec::with_capacity(skus.len());
        let mut unknown = Vec::new();
        {
            let map = self.sku_ids.lock().unwrap_or_else(PoisonError::into_inner);
            for sku in skus {
                match map.get(sku) {
                    Some(id) => known.push((sku.clone(), *id)),
                    None => unknown.push(sku.clone()),
                }
            }
        }
        if unknown.is_empty() {
            return Ok(known);
        }
        let found = self.store.product_ids_by_skus(&unknown).await?;
        let mut map = self.sku_ids.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() + found.len() > MAX_SKU_IDS {
            map.clear();
        }
        map.extend(found.iter().cloned());
        drop(map);
        known.extend(found);
        Ok(known)
    }

    async fn list_products(
        &self,
        category: Option<&CategorySlug>,
        first: u32,
        after: Option<ProductId>,
    ) -> Result<Vec<Product>, StoreError> {
        self.store.list_products(category, first, after).await
    }

    async fn set_price(&self, product: ProductId, price: Money) -> Result<(), StoreError> {
        let result = self.store.set_price(product, price).await;
        if result.is_ok() || may_have_applied(&result) {
            self.invalidate([product]).await;
        }
        result
    }

    async fn ensure_warehouse(
        &self,
        code: &WarehouseCode,
        name: &str,
        country: &str,
    ) -> Result<(), StoreError> {
        self.store.ensure_warehouse(code, name, country).await
    }

    async fn restock(&self, restock: &Restock) -> Result<RestockOutcome, StoreError> {
        let result = self.store.restock(restock).await;
        let changed = matches!(
            result,
            Ok(RestockOutcome::Applied | RestockOutcome::AlreadyApplied)
        );
        if changed || may_have_applied(&result) {
            self.invalidate([restock.product]).await;
        }
        result
    }

    // ---- orders: the placing and cancelling steps ---------------------------------------------
    async fn place_order_at_once(
        &self,
        request: &OrderRequest,
    ) -> Result<Option<PlacedAtOnce>, StoreError> {
        let result = self.store.place_order_at_once(request).await;
        match &result {
            Ok(Some(PlacedAtOnce::New(Reservation::Held(held)))) => {
                self.invalidate(held.iter().map(|l| l.product)).await
            }
            // Refused, the key was used, or the saga will run: no stock changed here.
            Ok(_) => {}
            Err(_) if may_have_applied(&result) => {
                self.invalidate(request.lines.iter().map(|l| l.product))
                    .await
            }
            Err(_) => {}
        }
        result
    }

    async fn open_order_request(&self, request: &OrderRequest) -> Result<OrderRequest, StoreError> {
        self.store.open_order_request(request).await
    }

    async fn reserve_stock(
        &self,
        order: OrderId,
        currency: &Currency,
        lines: &[LineRequest],
    ) -> Result<Reservation, StoreError> {
        let result = self.store.reserve_stock(order, currency, lines).await;
        match &result {
            Ok(Reservation::Held(held)) => self.invalidate(held.iter().map(|l| l.product)).await,
            // Short, NoPrice, Unavailable: nothing was reserved.
            Ok(_) => {}
            Err(_) if may_have_applied(&result) => {
                self.invalidate(lines.iter().map(|l| l.product)).await
            }
            Err(_) => {}
        }
        result
    }

    async fn record_order(&self, order: &Order, key: &IdempotencyKey) -> Result<(), StoreError> {
        self.store.record_order(order, key).await
    }

    async fn reject_order_request(
        &self,
        user: UserId,
        key: &IdempotencyKey,
    ) -> Result<(), StoreError> {
        self.store.reject_order_request(user, key).await
    }

    async fn mark_order_cancelled(&self, order: OrderId) -> Result<CancelOutcome, StoreError> {
        self.store.mark_order_cancelled(order).await
    }

    async fn release_stock(&self, order: OrderId) -> Result<Vec<ProductId>, StoreError> {
        let result = self.store.release_stock(order).await;
        match &result {
            Ok(released) => self.invalidate(released.iter().copied()).await,
            // Which products came back is unknown, and a retry gives back (and names) nothing,
            // so take them from the order's lines. Best effort: the store just failed us.
            Err(_) if may_have_applied(&result) => self.invalidate_lines_of(order).await,
            Err(_) => {}
        }
        result
    }

    async fn finish_cancellation(&self, order: OrderId) -> Result<(), StoreError> {
        self.store.finish_cancellation(order).await
    }

    async fn unfinished_order_requests(
        &self,
        older_than: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OrderRequest>, StoreError> {
        self.store
            .unfinished_order_requests(older_than, limit)
            .await
    }

    // ---- orders: reads ------------------------------------------------------------------------
    async fn add_address(&self, new: &NewAddress) -> Result<AddAddressOutcome, StoreError> {
        self.store.add_address(new).await
    }

    async fn addresses(&self, user: UserId) -> Result<Vec<Address>, StoreError> {
        self.store.addresses(user).await
    }

    async fn open_payment(&self, new: &NewPayment) -> Result<OpenPayment, StoreError> {
        self.store.open_payment(new).await
    }

    async fn record_payment(
        &self,
        payment: PaymentId,
        event: &PaymentEvent,
    ) -> Result<PaymentUpdate, StoreError> {
        self.store.record_payment(payment, event).await
    }

    async fn payments_of(
        &self,
        orders: &[OrderId],
        reader: Option<UserId>,
    ) -> Result<Vec<Payment>, StoreError> {
        self.store.payments_of(orders, reader).await
    }

    async fn mark_order_shipping(&self, order: OrderId) -> Result<StatusChange, StoreError> {
        self.store.mark_order_shipping(order).await
    }

    /// Shipping lowers `on_hand` and `reserved` together, so `available` (what the cache holds)
    /// does not move; the products are invalidated anyway, like every stock write, so that a
    /// cached document can never disagree with the rows.
    async fn ship_stock(&self, order: OrderId) -> Result<Vec<ProductId>, StoreError> {
        let result = self.store.ship_stock(order).await;
        match &result {
            Ok(shipped) => self.invalidate(shipped.iter().copied()).await,
            Err(StoreError::Unavailable(_)) => self.invalidate_lines_of(order).await,
            Err(_) => {}
        }
        result
    }

    async fn finish_shipping(&self, order: OrderId) -> Result<(), StoreError> {
        self.store.finish_shipping(order).await
    }

    async fn mark_order_delivered(&self, order: OrderId) -> Result<StatusChange, StoreError> {
        self.store.mark_order_delivered(order).await
    }

    async fn archive_settled(
        &self,
        orders_before: DateTime<Utc>,
        as_of: DateTime<Utc>,
        batch: u32,
    ) -> Result<ArchiveReport, StoreError> {
        self.store
            .archive_settled(orders_before, as_of, batch)
            .await
    }

    async fn stock_held_without_request(&self, limit: u32) -> Result<Vec<OrderId>, StoreError> {
        self.store.stock_held_without_request(limit).await
    }

    async fn inventory_drift(&self) -> Result<Vec<InventoryDrift>, StoreError> {
        self.store.inventory_drift().await
    }

    async fn orders_by_ids(
        &self,
        ids: &[OrderId],
        reader: Option<UserId>,
    ) -> Result<Vec<Order>, StoreError> {
        self.store.orders_by_ids(ids, reader).await
    }

    async fn order_history(
        &self,
        user: UserId,
        first: u32,
        after: Option<OrderCursor>,
        lines: Lines,
        reader: Option<UserId>,
    ) -> Result<Vec<Order>, StoreError> {
        self.store
            .order_history(user, first, after, lines, reader)
            .await
    }

    // ---- operations ---------------------------------------------------------------------------
    async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }

    fn engine(&self) -> &'static str {
        self.store.engine()
    }
}
