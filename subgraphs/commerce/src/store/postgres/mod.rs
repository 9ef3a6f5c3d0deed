//! The Postgres adapter of [`CommerceStore`]: sharded by user over one or more databases, with
//! optional streaming replicas, behind one router.
//!
//! Non-obvious:
//! - Users, their orders and order requests live on the database that holds their logical shard
//!   (the shard is in every id, so an order id routes without a lookup). Products, prices, stock,
//!   the shard map and the email index live in the catalog database (`main`).
//! - A write on a shard that is being moved fails with `ShardMoving` inside the database (the
//!   ownership fence); [`PostgresStore::on_shard`] then reloads the map and retries.
//! - Catalog reads that fill the product cache go to the catalog primary: a replica could hand
//!   the cache a row older than the invalidation that just happened, pinning it for a TTL.
//!   Order history, order look-ups and listings use replicas, with read-your-writes.
//! - Besides the client-side call timeout, every connection sets a server-side
//!   `statement_timeout`, so a query abandoned by a timed-out caller does not keep running.

use std::future::Future;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::future::try_join_all;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor as _, PgPool};

use super::{CommerceStore, StoreError, instrumented, instrumented_batch};
use crate::domain::{
    AddAddressOutcome, Address, ArchiveReport, CancelOutcome, CategorySlug, Currency, Email,
    IdempotencyKey, InventoryDrift, LineRequest, Lines, Money, NewAddress, NewPayment, NewProduct,
    NewUser, OpenPayment, Order, OrderCursor, OrderRequest, Payment, PaymentEvent, PaymentUpdate,
    PlacedAtOnce, Product, Reservation, Restock, RestockOutcome, Sku, StatusChange, User,
    UserWithHash, WarehouseCode,
};
use crate::ids::{OrderId, PaymentId, ProductId, UserId};

mod addresses;
mod catalog;
mod fulfilment;
mod gathering;
pub mod monitoring;
mod orders;
mod orphans;
mod payments;
mod replica;
mod rows;
pub mod shard_move;
mod together;
pub mod topology;
mod users;

pub use gathering::{
    IN_FLIGHT as PLACING_CALLS_IN_FLIGHT, MAX_ORDERS as MAX_ORDERS_PER_PLACING_CALL,
};
use topology::{Database, ShardMap};
pub use topology::{DatabaseUrls, MAIN, Topology};

const ENGINE: &str = "postgres";
/// Index of the catalog database (`main`) in `PostgresStore::databases`.
const CATALOG: usize = 0;
/// How long a write waits for a moving shard before giving up with `ShardMoving`.
const MOVE_WAIT: Duration = Duration::from_secs(15);
/// How often a running router re-reads the shard map, so that read-only traffic also follows a
/// move (writes learn at once, from the fence). Purging a moved shard waits longer than this.
pub const MAP_REFRESH: Duration = Duration::from_secs(2);

pub struct PostgresStore {
    /// `main` (the catalog) first, then the shard databases in name order.
    databases: Vec<Database>,
    map: ShardMap,
    recent: replica::RecentWrites,
    /// Orders placed in one transaction, gathered per call (catalog database).
    gathering: std::sync::Arc<gathering::Gathering>,
}

/// The server-side timeouts of every connection: a query abandoned by a timed-out caller stops,
/// and DDL gives up instead of queueing behind long queries.
const TIMEOUTS: [(&str, &str); 2] = [("statement_timeout", "5s"), ("lock_timeout", "2s")];

fn connect_options(url: &str, role: &str) -> Result<PgConnectOptions, sqlx::Error> {
    Ok(PgConnectOptions::from_str(url)?
        .application_name(&format!("polygate-commerce-{role}"))
        .options(TIMEOUTS))
}

/// What a pooled connection runs whenever it is handed out behind a transaction pooler: a
/// transaction of its own (so Parse and Bind, which sqlx sends with a Sync between them, reach
/// the same server connection) with the timeouts the pooler dropped from the start-up packet.
const BEGIN_POOLED: &str =
    "BEGIN; SET LOCAL statement_timeout = '5s'; SET LOCAL lock_timeout = '2s'";

async fn pool(url: &str, role: &str, max: u32, transaction_pooler: bool) -> anyhow::Result<PgPool> {
    let mut options = connect_options(url, role)?;
    let mut pool = PgPoolOptions::new()
        .max_connections(max)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(3))
        .idle_timeout(Duration::from_secs(300));
    if transaction_pooler {
        // PgBouncer 1.18 hands each transaction to any server connection and does not follow
        // prepared statements: no statement cache (each statement is prepared in the transaction
        // that runs it; the pooler's `server_reset_query = DEALLOCATE ALL` clears them), and
        // every use of a connection is a transaction. Writes commit explicitly before returning;
        // the COMMIT on release only ends read-only work.
        options = options.statement_cache_capacity(0);
        pool = pool
            .after_connect(|conn, _| {
                Box::pin(async move { conn.execute(BEGIN_POOLED).await.map(drop) })
            })
            .before_acquire(|conn, _| {
                Box::pin(async move { conn.execute(BEGIN_POOLED).await.map(|_| true) })
            })
            .after_release(|conn, _| {
                Box::pin(async move { conn.execute("COMMIT").await.map(|_| true) })
            });
    }
    pool.connect_with(options)
        .await
        .with_context(|| format!("cannot reach Postgres at {}", crate::redact(url)))
}

impl PostgresStore {
    /// One database in every role.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::connect_topology(&Topology::single(url)).await
    }

    /// Connects to every database, migrates every primary, and loads the shard map (placing
    /// every shard in `main` on first start).
    pub async fn connect_topology(topology: &Topology) -> anyhow::Result<Self> {
        topology.validate().map_err(anyhow::Error::msg)?;
        let mut databases = Vec::new();
        for (name, urls) in topology.databases() {
            let pooled = topology.transaction_pooler;
            let primary = pool(&urls.primary, "primary", 10, pooled).await?;
            crate::migrate::postgres(&primary)
                .await
                .with_context(|| format!("cannot migrate database {name}"))?;
            let replica = match &urls.replica {
                Some(url) => Some(pool(url, "replica", 10, pooled).await?),
                None => None,
            };
            databases.push(Database {
                name: name.to_owned(),
                primary,
                replica,
            });
        }
        topology::bootstrap(&databases[CATALOG].primary).await?;
        let homes = topology::load_map(&databases[CATALOG].primary, &databases).await?;
        Ok(Self {
            gathering: gathering::Gathering::new(
                databases[CATALOG].primary.clone(),
                topology.transaction_pooler,
            ),
            databases,
            map: ShardMap::new(homes),
            recent: replica::RecentWrites::default(),
        })
    }

    /// Re-reads the shard map every [`MAP_REFRESH`] until the process ends or the router is
    /// dropped.
    pub fn refresh_map(
        self: &std::sync::Arc<Self>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let router = std::sync::Arc::downgrade(self);
        async move {
            let mut ticks = tokio::time::interval(MAP_REFRESH);
            loop {
                ticks.tick().await;
                let Some(router) = router.upgrade() else {
                    return;
                };
                if let Err(e) = router.reload_map().await {
                    tracing::warn!(error = %e, "cannot refresh the shard map; keeping the last one");
                }
            }
        }
    }

    /// The catalog database's primary pool.
    pub fn pool(&self) -> &PgPool {
        &self.databases[CATALOG].primary
    }

    /// Every database's name and primary pool, `main` first.
    pub fn primaries(&self) -> impl Iterator<Item = (&str, &PgPool)> {
        self.databases.iter().map(|d| (d.name.as_str(), &d.primary))
    }

    /// The named database (`main` or a shard database).
    pub fn database(&self, name: &str) -> Option<&Database> {
        self.databases.iter().find(|d| d.name == name)
    }

    /// The name of the database that holds `shard` according to this router's map.
    pub fn home_of(&self, shard: u16) -> &str {
        &self.databases[self.map.home(shard)].name
    }

    /// Re-reads the shard map from the catalog database.
    pub async fn reload_map(&self) -> Result<(), StoreError> {
        let homes = topology::load_map(self.pool(), &self.databases).await?;
        self.map.replace(homes);
        Ok(())
    }

    fn catalog(&self) -> &PgPool {
        &self.databases[CATALOG].primary
    }

    /// Runs a write on the primary holding `shard`, following the shard if it moves.
    async fn on_shard<T, F, Fut>(&self, shard: u16, write: F) -> Result<T, StoreError>
    where
        F: Fn(usize, PgPool) -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let started = Instant::now();
        let mut pause = Duration::from_millis(20);
        loop {
            let home = self.map.home(shard);
            match write(home, self.databases[home].primary.clone()).await {
                Err(StoreError::ShardMoving(s)) if started.elapsed() < MOVE_WAIT => {
                    tracing::debug!(shard = s, "shard is moving; reloading the map and retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(500));
                    self.reload_map().await?;
                }
                other => return other,
            }
        }
    }

    /// Remembers a user's write for read-your-writes, when the database has a replica.
    async fn remember_write(&self, user: UserId, database: usize) {
        let db = &self.databases[database];
        if db.replica.is_some()
            && let Some(lsn) = replica::current_lsn(&db.primary).await
        {
            self.recent.remember(user, database, lsn);
        }
    }

    async fn read_pool(&self, database: usize, reader: Option<UserId>) -> &PgPool {
        replica::read_pool(&self.databases, database, reader, &self.recent).await
    }

    /// The rows of `rows` (read from database `home`) whose shard the map places there.
    fn only_homed<T>(&self, home: usize, mut rows: Vec<T>, shard: impl Fn(&T) -> u16) -> Vec<T> {
        rows.retain(|row| self.map.home(shard(row)) == home);
        rows
    }

    /// Ids grouped by the database holding their shard.
    fn by_database<T: Copy>(&self, ids: &[T], shard: impl Fn(T) -> u16) -> Vec<(usize, Vec<T>)> {
        let mut groups: Vec<(usize, Vec<T>)> = Vec::new();
        for id in ids {
            let home = self.map.home(shard(*id));
            match groups.iter_mut().find(|(h, _)| *h == home) {
                Some((_, group)) => group.push(*id),
                None => groups.push((home, vec![*id])),
            }
        }
        groups
    }
}

#[async_trait]
impl CommerceStore for PostgresStore {
    async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        instrumented(ENGINE, "create_user", async {
            let taken = || StoreError::Conflict("email taken".into());
            match users::claim_email(self.catalog(), &new.email, new.id).await? {
                users::Claim::Claimed => {}
                users::Claim::Taken { by, stale } => {
                    // A stale claim whose user never reached their shard is a crashed
                    // registration's leftover; anything else really is taken.
                    let owner_exists = !self.users_by_ids(&[by]).await?.is_empty();
                    if owner_exists
                        || !stale
                        || !users::take_over_claim(self.catalog(), &new.email, by, new.id).await?
                    {
                        return Err(taken());
                    }
                }
            }
            let inserted = self
                .on_shard(new.id.shard(), |_, pool| {
                    let new = &new;
                    async move { users::insert(&pool, new).await }
                })
                .await;
            if inserted.is_err() {
                users::release_claim(self.catalog(), &new.email, new.id).await?;
            }
            inserted
        })
        .await
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<UserWithHash>, StoreError> {
        instrumented(ENGINE, "user_by_email", async {
            let Some(id) = users::claimed_by(self.catalog(), email).await? else {
                return Ok(None);
            };
            let home = self.map.home(id.shard());
            let found = users::with_hash(&self.databases[home].primary, id).await?;
            Ok(found.filter(|u| &u.user.email == email))
        })
        .await
    }

    async fn users_by_ids(&self, ids: &[UserId]) -> Result<Vec<User>, StoreError> {
        instrumented_batch(ENGINE, "users_by_ids", ids, async {
            let groups = self.by_database(ids, UserId::shard);
            let found = try_join_all(groups.into_iter().map(|(home, group)| async move {
                let raw: Vec<i64> = group.iter().map(|id| id.as_i64()).collect();
                users::by_ids(&self.databases[home].primary, &raw).await
            }))
            .await?;
            Ok(found.into_iter().flatten().collect())
        })
        .await
    }

    async fn users_by_emails(&self, emails: &[Email]) -> Result<Vec<User>, StoreError> {
        instrumented_batch(ENGINE, "users_by_emails", emails, async {
            let owners = users::claimed_by_any(self.catalog(), emails).await?;
            let groups = self.by_database(&owners, UserId::shard);
            let found = try_join_all(groups.into_iter().map(|(home, group)| async move {
                let raw: Vec<i64> = group.iter().map(|id| id.as_i64()).collect();
                users::by_ids(&self.databases[home].primary, &raw).await
            }))
            .await?;
            // A claim whose user row has another email is a sign-up still in progress.
            Ok(found
                .into_iter()
                .flatten()
                .filter(|u| emails.contains(&u.email))
                .collect())
        })
        .await
    }

    async fn list_users(&self, first: u32, after: Option<UserId>) -> Result<Vec<User>, StoreError> {
        instrumented(ENGINE, "list_users", async {
            // Scatter-gather, bounded: each database returns at most `first` rows after the
            // cursor, so merging costs at most databases × first rows whatever the table sizes.
            // A database keeps a frozen copy of a moved shard until it is purged: only rows from
            // the database the map names count. A full page whose stale rows were dropped says
            // nothing about ids past its last row, so a round stops there and the next round
            // continues from it (only while such copies exist is there more than one round).
            let mut merged: Vec<User> = Vec::new();
            let mut cursor = after;
            loop {
                let homes = self.map.databases_in_use();
                let pages = try_join_all(homes.into_iter().map(|home| async move {
                    let page = users::page(self.read_pool(home, None).await, first, cursor).await?;
                    let full_until = (page.len() == first as usize)
                        .then(|| page.last().map(|u| u.id))
                        .flatten();
                    Ok::<_, StoreError>((self.only_homed(home, page, |u| u.id.shard()), full_until))
                }))
                .await?;
                let known_until = pages.iter().filter_map(|(_, until)| *until).min();
                let mut round: Vec<User> = pages.into_iter().flat_map(|(rows, _)| rows).collect();
                round.retain(|u| known_until.is_none_or(|until| u.id <= until));
                round.sort_by_key(|u| u.id);
                merged.extend(round);
                match known_until {
                    Some(until) if merged.len() < first as usize => cursor = Some(until),
                    _ => break,
                }
            }
            merged.truncate(first as usize);
            Ok(merged)
        })
        .await
    }

    async fn create_product(&self, new: NewProduct) -> Result<Product, StoreError> {
        instrumented(ENGINE, "create_product", async {
            catalog::create_product(self.catalog(), &new).await?;
            catalog::products_by_ids(self.catalog(), &[new.id])
                .await?
                .pop()
                .ok_or_else(|| StoreError::Other("created product not found".into()))
        })
        .await
    }

    async fn products_by_ids(
        &self,
        ids: &[ProductId],
        _reader: Option<UserId>,
    ) -> Result<Vec<Product>, StoreError> {
        instrumented_batch(
            ENGINE,
            "products_by_ids",
            ids,
            catalog::products_by_ids(self.catalog(), ids),
        )
        .await
    }

    async fn products_by_skus(
        &self,
        skus: &[Sku],
        _reader: Option<UserId>,
    ) -> Result<Vec<Product>, StoreError> {
        instrumented_batch(
            ENGINE,
            "products_by_skus",
            skus,
            catalog::products_by_skus(self.catalog(), skus),
        )
        .await
    }

    async fn product_ids_by_skus(&self, skus: &[Sku]) -> Result<Vec<(Sku, ProductId)>, StoreError> {
        instrumented_batch(
            ENGINE,
            "product_ids_by_skus",
            skus,
            catalog::product_ids_by_skus(self.catalog(), skus),
        )
        .await
    }

    async fn list_products(
        &self,
        category: Option<&CategorySlug>,
        first: u32,
        after: Option<ProductId>,
    ) -> Result<Vec<Product>, StoreError> {
        instrumented(ENGINE, "list_products", async {
            let pool = self.read_pool(0, None).await;
            catalog::list_products(pool, category, first, after).await
        })
        .await
    }

    async fn set_price(&self, product: ProductId, price: Money) -> Result<(), StoreError> {
        instrumented(
            ENGINE,
            "set_price",
            catalog::set_price(self.catalog(), product, &price),
        )
        .await
    }

    async fn ensure_warehouse(
        &self,
        code: &WarehouseCode,
        name: &str,
        country: &str,
    ) -> Result<(), StoreError> {
        instrumented(
            ENGINE,
            "ensure_warehouse",
            catalog::ensure_warehouse(self.catalog(), code, name, country),
        )
        .await
    }

    async fn restock(&self, restock: &Restock) -> Result<RestockOutcome, StoreError> {
        instrumented(ENGINE, "restock", catalog::restock(self.catalog(), restock)).await
    }

    async fn place_order_at_once(
        &self,
        request: &OrderRequest,
    ) -> Result<Option<PlacedAtOnce>, StoreError> {
        instrumented(ENGINE, "place_order_at_once", async {
            self.on_shard(request.user.shard(), |home, _| async move {
                if home != CATALOG {
                    return Ok(None);
                }
                let outcome = self.gathering.place(request).await?;
                if matches!(outcome, PlacedAtOnce::New(Reservation::Held(_))) {
                    self.remember_write(request.user, home).await;
                }
                Ok(Some(outcome))
            })
            .await
        })
        .await
    }

    async fn open_order_request(&self, request: &OrderRequest) -> Result<OrderRequest, StoreError> {
        instrumented(
            ENGINE,
            "open_order_request",
            self.on_shard(request.user.shard(), |_, pool| async move {
                orders::open_request(&pool, request).await
            }),
        )
        .await
    }

    async fn reserve_stock(
        &self,
        order: OrderId,
        currency: &Currency,
        lines: &[LineRequest],
    ) -> Result<Reservation, StoreError> {
        instrumented(
            ENGINE,
            "reserve_stock",
            catalog::reserve(self.catalog(), order, currency, lines),
        )
        .await
    }

    async fn record_order(&self, order: &Order, key: &IdempotencyKey) -> Result<(), StoreError> {
        instrumented(ENGINE, "record_order", async {
            self.on_shard(order.user.shard(), |home, pool| async move {
                orders::record(&pool, order, key).await?;
                self.remember_write(order.user, home).await;
                Ok(())
            })
            .await
        })
        .await
    }

    async fn reject_order_request(
        &self,
        user: UserId,
        key: &IdempotencyKey,
    ) -> Result<(), StoreError> {
        instrumented(
            ENGINE,
            "reject_order_request",
            self.on_shard(user.shard(), |_, pool| async move {
                orders::reject(&pool, user, key).await
            }),
        )
        .await
    }

    async fn mark_order_cancelled(&self, order: OrderId) -> Result<CancelOutcome, StoreError> {
        instrumented(ENGINE, "mark_order_cancelled", async {
            self.on_shard(order.shard(), |home, pool| async move {
                let outcome = orders::mark_cancelled(&pool, order).await?;
                if let CancelOutcome::Cancelled(cancelled) = &outcome {
                    self.remember_write(cancelled.user, home).await;
                }
                Ok(outcome)
            })
            .await
        })
        .await
    }

    async fn release_stock(&self, order: OrderId) -> Result<Vec<ProductId>, StoreError> {
        instrumented(
            ENGINE,
            "release_stock",
            catalog::release(self.catalog(), order),
        )
        .await
    }

    async fn finish_cancellation(&self, order: OrderId) -> Result<(), StoreError> {
        instrumented(
            ENGINE,
            "finish_cancellation",
            self.on_shard(order.shard(), |_, pool| async move {
                orders::finish_cancellation(&pool, order).await
            }),
        )
        .await
    }

    async fn unfinished_order_requests(
        &self,
        older_than: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OrderRequest>, StoreError> {
        instrumented(ENGINE, "unfinished_order_requests", async {
            let homes = self.map.databases_in_use();
            let found = try_join_all(homes.into_iter().map(|home| async move {
                let found =
                    orders::unfinished(&self.databases[home].primary, older_than, limit).await?;
                Ok::<_, StoreError>(self.only_homed(home, found, |r| r.user.shard()))
            }))
            .await?;
            let mut all: Vec<OrderRequest> = found.into_iter().flatten().collect();
            all.truncate(limit as usize);
            Ok(all)
        })
        .await
    }

    async fn add_address(&self, new: &NewAddress) -> Result<AddAddressOutcome, StoreError> {
        instrumented(
            ENGINE,
            "add_address",
            self.on_shard(new.user.shard(), |_, pool| async move {
                addresses::add(&pool, new).await
            }),
        )
        .await
    }

    async fn addresses(&self, user: UserId) -> Result<Vec<Address>, StoreError> {
        instrumented(ENGINE, "addresses", async {
            let home = self.map.home(user.shard());
            addresses::of_user(&self.databases[home].primary, user).await
        })
        .await
    }

    async fn open_payment(&self, new: &NewPayment) -> Result<OpenPayment, StoreError> {
        instrumented(ENGINE, "open_payment", async {
            self.on_shard(new.order.shard(), |home, pool| async move {
                let (opened, buyer) = payments::open(&pool, new).await?;
                if let (OpenPayment::Ready(_), Some(buyer)) = (&opened, buyer) {
                    self.remember_write(buyer, home).await;
                }
                Ok(opened)
            })
            .await
        })
        .await
    }

    async fn record_payment(
        &self,
        payment: PaymentId,
        event: &PaymentEvent,
    ) -> Result<PaymentUpdate, StoreError> {
        instrumented(ENGINE, "record_payment", async {
            self.on_shard(payment.shard(), |home, pool| async move {
                let (update, buyer) = payments::record(&pool, payment, event).await?;
                if let (PaymentUpdate::Applied { .. }, Some(buyer)) = (&update, buyer) {
                    self.remember_write(buyer, home).await;
                }
                Ok(update)
            })
            .await
        })
        .await
    }

    async fn payments_of(
        &self,
        orders: &[OrderId],
        reader: Option<UserId>,
    ) -> Result<Vec<Payment>, StoreError> {
        instrumented_batch(ENGINE, "payments_of", orders, async {
            let groups = self.by_database(orders, OrderId::shard);
            let found = try_join_all(groups.into_iter().map(|(home, group)| async move {
                payments::of_orders(self.read_pool(home, reader).await, &group).await
            }))
            .await?;
            Ok(found.into_iter().flatten().collect())
        })
        .await
    }

    async fn mark_order_shipping(&self, order: OrderId) -> Result<StatusChange, StoreError> {
        instrumented(ENGINE, "mark_order_shipping", async {
            self.on_shard(order.shard(), |home, pool| async move {
                let change = fulfilment::mark_shipping(&pool, order).await?;
                if let StatusChange::Done(shipped) = &change {
                    self.remember_write(shipped.user, home).await;
                }
                Ok(change)
            })
            .await
        })
        .await
    }

    async fn ship_stock(&self, order: OrderId) -> Result<Vec<ProductId>, StoreError> {
        instrumented(
            ENGINE,
            "ship_stock",
            fulfilment::ship_stock(self.catalog(), order),
        )
        .await
    }

    async fn finish_shipping(&self, order: OrderId) -> Result<(), StoreError> {
        instrumented(
            ENGINE,
            "finish_shipping",
            self.on_shard(order.shard(), |_, pool| async move {
                fulfilment::finish_shipping(&pool, order).await
            }),
        )
        .await
    }

    async fn mark_order_delivered(&self, order: OrderId) -> Result<StatusChange, StoreError> {
        instrumented(ENGINE, "mark_order_delivered", async {
            self.on_shard(order.shard(), |home, pool| async move {
                let change = fulfilment::mark_delivered(&pool, order).await?;
                if let StatusChange::Done(delivered) = &change {
                    self.remember_write(delivered.user, home).await;
                }
                Ok(change)
            })
            .await
        })
        .await
    }

    async fn archive_settled(
        &self,
        orders_before: DateTime<Utc>,
        as_of: DateTime<Utc>,
        batch: u32,
    ) -> Result<ArchiveReport, StoreError> {
        instrumented(ENGINE, "archive_settled", async {
            let moved = try_join_all(
                self.databases
                    .iter()
                    .map(|db| catalog::archive_settled(&db.primary, orders_before, as_of, batch)),
            )
            .await?;
            let mut total = ArchiveReport::default();
            moved.into_iter().for_each(|r| total.add(r));
            Ok(total)
        })
        .await
    }

    async fn stock_held_without_request(&self, limit: u32) -> Result<Vec<OrderId>, StoreError> {
        instrumented(ENGINE, "stock_held_without_request", async {
            let mut found = Vec::new();
            let mut after: Option<OrderId> = None;
            // Page through the orders holding stock (catalog), asking each page's shards which
            // have a request; bounded by the held reservations, which are finite and indexed.
            loop {
                let page = orphans::holding_stock(self.catalog(), after, orphans::PAGE).await?;
                let Some(last) = page.last().copied() else {
                    break;
                };
                for (home, group) in self.by_database(&page, OrderId::shard) {
                    let known =
                        orphans::with_request(&self.databases[home].primary, &group).await?;
                    found.extend(group.into_iter().filter(|id| !known.contains(id)));
                }
                if found.len() >= limit as usize || page.len() < orphans::PAGE as usize {
                    break;
                }
                after = Some(last);
            }
            found.truncate(limit as usize);
            Ok(found)
        })
        .await
    }

    async fn inventory_drift(&self) -> Result<Vec<InventoryDrift>, StoreError> {
        instrumented(ENGINE, "inventory_drift", catalog::drift(self.catalog())).await
    }

    async fn orders_by_ids(
        &self,
        ids: &[OrderId],
        reader: Option<UserId>,
    ) -> Result<Vec<Order>, StoreError> {
        instrumented_batch(ENGINE, "orders_by_ids", ids, async {
            let groups = self.by_database(ids, OrderId::shard);
            let found = try_join_all(groups.into_iter().map(|(home, group)| async move {
                orders::by_ids(self.read_pool(home, reader).await, &group).await
            }))
            .await?;
            Ok(found.into_iter().flatten().collect())
        })
        .await
    }

    async fn order_history(
        &self,
        user: UserId,
        first: u32,
        after: Option<OrderCursor>,
        lines: Lines,
        reader: Option<UserId>,
    ) -> Result<Vec<Order>, StoreError> {
        instrumented(ENGINE, "order_history", async {
            let home = self.map.home(user.shard());
            let pool = self.read_pool(home, reader).await;
            orders::history(pool, user, first, after, lines).await
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        instrumented(ENGINE, "ping", async {
            try_join_all(self.databases.iter().map(|db| async move {
                sqlx::query("SELECT 1")
                    .execute(&db.primary)
                    .await
                    .map(drop)
                    .map_err(super::from_sqlx)
            }))
            .await
            .map(drop)
        })
        .await
    }

    fn engine(&self) -> &'static str {
        ENGINE
    }
}
