//! A deterministic bench dataset for the Postgres store (`polygate-commerce generate`): users
//! `bench-<n>@example.com` with the password [`BENCH_PASSWORD`], products `BENCH-<n>` with a USD
//! price and a stock no bench can exhaust in warehouse [`BENCH_WAREHOUSE`], and orders of one to
//! three lines spread over the twelve months before [`Spec::until`] (never before the id epoch).
//! User `n` lives on logical shard `n mod 256`, in the database the router's shard map names.
//!
//! Non-obvious decisions:
//! - Same seed and `until` ⇒ same rows, whatever the topology: every id is composed from the
//!   row's number with the bit layout of [`crate::ids`] (never `ids::generate`, which reads the
//!   clock), and every chunk of [`ORDERS_PER_CHUNK`] orders draws from its own RNG seeded by
//!   `(seed, chunk)`, so where a row lands never changes what it is. The one exception is
//!   `users.password_hash`: one argon2id hash with a fresh salt per run, shared by every user.
//! - Generated ids cannot collide with live ones. Their time bits lie before `until` (at most
//!   today), so ids issued later are larger; and they use sequence numbers 512..1023, which the
//!   live generator reaches only after 512 ids in one millisecond of one process. Each order owns
//!   a whole millisecond of its shard: sequence 512 is the order, 513..515 its lines, 516 its
//!   payment (orders that were paid have one, captured or refunded). Every user has one address,
//!   and their orders ship to a copy of it.
//! - Loading is binary `COPY` in one transaction per writer: per database one writer for users,
//!   orders and lines, plus one for the catalog rows in `main`. Rows are generated as they are
//!   sent, a chunk at a time; the lines pass generates the orders again instead of buffering
//!   them. Shard databases commit before the catalog, and a database that already holds bench
//!   rows is refused, so a failed run is rolled back or refused, never half-repeated.
//! - Where the role may, the shard writers skip the per-row foreign-key triggers, as
//!   `pg_restore --disable-triggers` does: checking each line against the partitioned `orders`
//!   took 85% of the load (a million orders: 100 s with the checks, 14 s without). The rows
//!   reference each other by construction, and `tests/generator_postgres.rs` checks that they do.
//! - `maintain_partitions` only looks forward, so the months of the window get their partitions
//!   from `commerce_create_month_partitions` first: loading into the DEFAULT partition would
//!   leave every query scanning one huge unpruned table.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::postgres::{PgCopyIn, PgPoolOptions};
use sqlx::{ConnectOptions as _, Connection as _, PgConnection, PgPool, Postgres, Transaction};

use crate::domain::{AddressParts, Password, PostalAddress};
use crate::ids::{EPOCH_UNIX_MS, LOGICAL_SHARDS, SEQUENCE_BITS, SHARD_BITS};
use crate::password::PasswordHasher;
use crate::store::PostgresStore;
use crate::store::postgres::MAIN;

/// Every bench user's password.
pub const BENCH_PASSWORD: &str = "polygate-bench";
/// The warehouse holding all bench stock.
pub const BENCH_WAREHOUSE: &str = "BENCH-1";
/// Units of every bench product on hand: enough for any benchmark run.
pub const BENCH_STOCK: i32 = 1_000_000_000;
/// Orders generated from one RNG; part of the dataset's definition (changing it changes rows).
pub const ORDERS_PER_CHUNK: u64 = 4096;

const CURRENCY: &str = "USD";
/// Generated ids use the upper half of the 10-bit sequence (see the module doc).
const SEQUENCE_BASE: u64 = 512;
const USERS_PER_MS: u64 = LOGICAL_SHARDS as u64 * 512;
const DAY_MS: i64 = 86_400_000;
const WINDOW_MS: i64 = 365 * DAY_MS;
/// Bytes of COPY data gathered before they are sent.
const FLUSH_BYTES: usize = 1 << 20;
const MAX_LINES: usize = 3;
/// An order's payment id is the order's id plus this: sequence 516, after the order (512) and
/// its lines (513..515) in the millisecond the order owns.
const PAYMENT_SEQUENCE_OFFSET: i64 = 1 + MAX_LINES as i64;

/// The email of bench user `n` (1-based).
pub fn bench_email(n: u64) -> String {
    format!("bench-{n}@example.com")
}

/// Where bench user `n` (1-based) lives, and so where their orders ship.
pub fn bench_address(n: u64) -> PostalAddress {
    PostalAddress::parse(&AddressParts {
        recipient: &format!("Bench user {n}"),
        line1: &format!("{n} Bench Street"),
        line2: None,
        city: "Berlin",
        region: None,
        postal_code: Some("10115"),
        country: "DE",
    })
    .expect("a valid address")
}

/// The SKU of bench product `n` (1-based).
pub fn bench_sku(n: u64) -> String {
    format!("BENCH-{n:06}")
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub users: u64,
    pub orders: u64,
    pub products: u64,
    pub seed: u64,
    /// Orders are placed in the twelve months before this instant (not before 2026-01-01, the
    /// id epoch). Part of the dataset's definition, like the seed.
    pub until: DateTime<Utc>,
}

impl Spec {
    /// The default `until`: the start of today (UTC), so runs on one day make the same rows.
    pub fn today() -> DateTime<Utc> {
        let today = Utc::now().date_naive();
        midnight(today)
    }
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

/// Rows written to one database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    pub database: String,
    pub users: u64,
    /// One address per user, the one their orders ship to.
    pub addresses: u64,
    pub orders: u64,
    pub lines: u64,
    /// One captured (or refunded) payment per order that was paid.
    pub payments: u64,
    /// Whether the per-row foreign-key triggers were skipped (see `skip_foreign_key_checks`).
    pub foreign_key_checks_skipped: bool,
}

/// What a run wrote and how long it took.
#[derive(Debug, Clone)]
pub struct Report {
    pub spec: Spec,
    /// The first and last instant an order can have.
    pub window: (DateTime<Utc>, DateTime<Utc>),
    pub per_database: Vec<Written>,
    /// Catalog rows: products, prices, inventory, email claims, the warehouse.
    pub catalog_rows: u64,
    /// Monthly partitions this run created.
    pub partitions_created: usize,
    /// From the first COPY to the last commit.
    pub load: Duration,
    /// ANALYZE of every table written.
    pub analyze: Duration,
    pub total: Duration,
}

impl Report {
    pub fn orders(&self) -> u64 {
        self.per_database.iter().map(|w| w.orders).sum()
    }

    pub fn lines(&self) -> u64 {
        self.per_database.iter().map(|w| w.lines).sum()
    }

    /// Every row written.
    pub fn rows(&self) -> u64 {
        self.catalog_rows
            + self
                .per_database
                .iter()
                .map(|w| w.users + w.addresses + w.orders + w.lines + w.payments)
                .sum::<u64>()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.total.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "generated seed {} until {}: {} users, {} products, {} orders with {} lines \
             (orders {} .. {})",
            self.spec.seed,
            self.spec.until.format("%Y-%m-%d"),
            self.spec.users,
            self.spec.products,
            self.orders(),
            self.lines(),
            self.window.0.format("%Y-%m-%d"),
            self.window.1.format("%Y-%m-%d"),
        )?;
        for w in &self.per_database {
            writeln!(
                f,
                "  database {}: {} users, {} addresses, {} orders, {} lines, {} payments{}",
                w.database,
                w.users,
                w.addresses,
                w.orders,
                w.lines,
                w.payments,
                if w.foreign_key_checks_skipped {
                    " (per-row foreign-key triggers skipped)"
                } else {
                    ""
                }
            )?;
        }
        write!(
            f,
            "{} rows in {:.1} s (load {:.1} s, analyze {:.1} s; {} partitions created): \
             {:.0} rows/s, {:.0} orders/s",
            self.rows(),
            secs,
            self.load.as_secs_f64(),
            self.analyze.as_secs_f64(),
            self.partitions_created,
            self.rows() as f64 / secs,
            self.orders() as f64 / secs,
        )
    }
}

/// Loads the dataset `spec` describes through `store`'s databases, placing users and orders by
/// its shard map. Refuses a store that already holds bench rows.
pub async fn generate(
    store: &PostgresStore,
    spec: &Spec,
    hasher: &PasswordHasher,
) -> anyhow::Result<Report> {
    let started = Instant::now();
    let plan = Arc::new(Plan::new(spec.clone())?);
    let databases = databases_in_use(store);
    refuse_existing(store, &databases).await?;

    let password = Password::parse(BENCH_PASSWORD).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let hash: Arc<str> = hasher.hash(&password).await?.as_str().into();

    let mut partitions_created = 0;
    for name in &databases {
        partitions_created += make_partitions(pool_of(store, name)?, &plan).await?;
    }

    let mut bulk = Vec::new();
    for name in &databases {
        bulk.push(bulk_pool(pool_of(store, name)?).await?);
    }

    let load_started = Instant::now();
    let mut shard_writers = Vec::new();
    for (name, pool) in databases.iter().zip(&bulk) {
        let owned: Vec<bool> = (0..LOGICAL_SHARDS)
            .map(|s| store.home_of(s) == name)
            .collect();
        let (pool, plan, hash) = (pool.clone(), plan.clone(), hash.clone());
        let name = name.clone();
        shard_writers.push(tokio::spawn(async move {
            write_shard_rows(pool, plan, owned, hash, name).await
        }));
    }
    let catalog = {
        let (pool, plan) = (bulk[0].clone(), plan.clone());
        tokio::spawn(async move { write_catalog(pool, plan).await })
    };
    let mut open = Vec::new();
    for writer in shard_writers {
        open.push(writer.await.context("a shard writer panicked")??);
    }
    let (catalog_tx, catalog_rows) = catalog.await.context("the catalog writer panicked")??;
    let mut per_database = Vec::new();
    for (tx, written) in open {
        tx.commit()
            .await
            .with_context(|| format!("cannot commit database {}", written.database))?;
        per_database.push(written);
    }
    catalog_tx
        .commit()
        .await
        .context("cannot commit the catalog")?;
    let load = load_started.elapsed();

    let analyze_started = Instant::now();
    for (name, pool) in databases.iter().zip(&bulk) {
        let tables = if name == MAIN {
            "users, addresses, orders, order_items, payments, products, prices, inventory, \
             user_emails, warehouses"
        } else {
            "users, addresses, orders, order_items, payments"
        };
        sqlx::query(&format!("ANALYZE {tables}"))
            .execute(pool)
            .await
            .with_context(|| format!("cannot analyze database {name}"))?;
    }
    let analyze = analyze_started.elapsed();
    for pool in bulk {
        pool.close().await;
    }

    Ok(Report {
        spec: spec.clone(),
        window: (millis(plan.orders_from_ms), millis(plan.until_ms - 1)),
        per_database,
        catalog_rows,
        partitions_created,
        load,
        analyze,
        total: started.elapsed(),
    })
}

fn millis(unix_ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(unix_ms)
        .single()
        .expect("in range")
}

/// `main` first, then the databases holding at least one shard.
fn databases_in_use(store: &PostgresStore) -> Vec<String> {
    let mut names = vec![MAIN.to_owned()];
    for shard in 0..LOGICAL_SHARDS {
        let home = store.home_of(shard);
        if !names.iter().any(|n| n == home) {
            names.push(home.to_owned());
        }
    }
    names
}

fn pool_of<'s>(store: &'s PostgresStore, name: &str) -> anyhow::Result<&'s PgPool> {
    store
        .database(name)
        .map(|d| &d.primary)
        .with_context(|| format!("the shard map names database {name:?}, which is not configured"))
}

async fn refuse_existing(store: &PostgresStore, databases: &[String]) -> anyhow::Result<()> {
    let claimed: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM user_emails WHERE email LIKE 'bench-%@example.com')
             OR EXISTS (SELECT 1 FROM products WHERE sku LIKE 'BENCH-%')",
    )
    .fetch_one(store.pool())
    .await?;
    if claimed {
        bail!(
            "database {MAIN} already holds bench users or products; generate into a fresh database"
        );
    }
    for name in databases {
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM users WHERE email LIKE 'bench-%@example.com')",
        )
        .fetch_one(pool_of(store, name)?)
        .await?;
        if exists {
            bail!("database {name} already holds bench users; generate into a fresh database");
        }
    }
    Ok(())
}

/// Creates the monthly partitions of every month an order can fall in; returns how many.
async fn make_partitions(pool: &PgPool, plan: &Plan) -> anyhow::Result<usize> {
    let first = millis(plan.orders_from_ms)
        .date_naive()
        .with_day(1)
        .expect("day 1");
    let last = millis(plan.until_ms - 1).date_naive();
    let mut created = 0;
    let mut month = first;
    while month <= last {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT action, partition_name FROM commerce_create_month_partitions($1)",
        )
        .bind(month.and_hms_opt(0, 0, 0).expect("midnight"))
        .fetch_all(pool)
        .await?;
        for (action, name) in rows {
            match action.as_str() {
                "created" => created += 1,
                _ => bail!(
                    "partition {name} is {action}: the DEFAULT partition holds rows of {month}; \
                     move them out first"
                ),
            }
        }
        month = month + Months::new(1);
    }
    Ok(created)
}

/// The dataset, as pure functions of the spec.
struct Plan {
    spec: Spec,
    /// When the bench users and products were created (unix ms).
    start_ms: i64,
    /// The first millisecond an order can have: a day after `start_ms`.
    orders_from_ms: i64,
    until_ms: i64,
    /// USD price of each product, in cents.
    prices: Vec<i64>,
}

/// One generated order; `lines[..line_count]` are its lines.
#[derive(Debug, Clone, Copy)]
struct GenOrder {
    id: i64,
    user: u64,
    created_ms: i64,
    status: &'static str,
    total_minor: i64,
    line_count: usize,
    lines: [GenLine; MAX_LINES],
}

#[derive(Debug, Clone, Copy, Default)]
struct GenLine {
    /// 0-based product number.
    product: u64,
    quantity: i32,
    unit_price_minor: i64,
}

/// An id with the layout of `ids.rs`.
fn compose_id(unix_ms: i64, shard: u16, sequence: u64) -> i64 {
    let ms = (unix_ms - EPOCH_UNIX_MS as i64) as u64;
    ((ms << (SHARD_BITS + SEQUENCE_BITS)) | (u64::from(shard) << SEQUENCE_BITS) | sequence) as i64
}

/// An RNG for one part of the dataset: `(seed, part, index)` mixed by SplitMix64 steps.
fn rng_for(seed: u64, part: u64, index: u64) -> StdRng {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    StdRng::seed_from_u64(mix(mix(mix(seed) ^ part) ^ index))
}

const PART_PRICES: u64 = 1;
const PART_ORDERS: u64 = 2;

impl Plan {
    fn new(spec: Spec) -> anyhow::Result<Self> {
        ensure!(spec.products >= 1, "--products must be at least 1");
        ensure!(
            spec.users >= 1 || spec.orders == 0,
            "orders need buyers: --users must be at least 1"
        );
        let until_ms = spec.until.timestamp_millis();
        ensure!(
            spec.until <= Utc::now(),
            "--until {} is in the future: generated ids would collide with live ones",
            spec.until
        );
        let start_ms = (until_ms - WINDOW_MS).max(EPOCH_UNIX_MS as i64);
        let orders_from_ms = start_ms + DAY_MS;
        ensure!(
            until_ms - orders_from_ms >= DAY_MS,
            "--until must be at least two days after 2026-01-01 (the id epoch)"
        );
        ensure!(
            spec.orders <= (until_ms - orders_from_ms) as u64,
            "at most one order per millisecond of the window: {} orders do not fit",
            spec.orders
        );
        ensure!(
            spec.users.div_ceil(USERS_PER_MS) < DAY_MS as u64
                && spec.products.div_ceil(SEQUENCE_BASE) < DAY_MS as u64,
            "too many users or products for one day of ids"
        );
        let mut rng = rng_for(spec.seed, PART_PRICES, 0);
        let prices = (0..spec.products)
            .map(|_| rng.random_range(199..=49_999))
            .collect();
        Ok(Self {
            spec,
            start_ms,
            orders_from_ms,
            until_ms,
            prices,
        })
    }

    fn user_shard(n: u64) -> u16 {
        (n % u64::from(LOGICAL_SHARDS)) as u16
    }

    fn user_created_ms(&self, n: u64) -> i64 {
        self.start_ms + ((n - 1) / USERS_PER_MS) as i64
    }

    /// User `n` (1-based): shard `n mod 256`; the numbers of one shard count up the sequence.
    fn user_id(&self, n: u64) -> i64 {
        let sequence = SEQUENCE_BASE + ((n - 1) / u64::from(LOGICAL_SHARDS)) % 512;
        compose_id(self.user_created_ms(n), Self::user_shard(n), sequence)
    }

    /// User `n`'s address: the user's id, half a day later (users take far less than half a
    /// day of ids; orders start a day after them).
    fn address_id(&self, n: u64) -> i64 {
        self.user_id(n) + ((DAY_MS / 2) << (SHARD_BITS + SEQUENCE_BITS))
    }

    fn product_created_ms(&self, p: u64) -> i64 {
        self.start_ms + (p / SEQUENCE_BASE) as i64
    }

    /// Product `p` (0-based) on shard 0, like every catalog row.
    fn product_id(&self, p: u64) -> i64 {
        compose_id(
            self.product_created_ms(p),
            0,
            SEQUENCE_BASE + p % SEQUENCE_BASE,
        )
    }

    fn warehouse_id(&self) -> i64 {
        compose_id(self.start_ms, 0, SEQUENCE_BASE)
    }

    fn chunks(&self) -> u64 {
        self.spec.orders.div_ceil(ORDERS_PER_CHUNK)
    }

    /// Orders `chunk * ORDERS_PER_CHUNK ..`; order `k` owns a millisecond in
    /// `[from + k·W/M, from + (k+1)·W/M)`, so orders are in time order and never share one.
    fn order_chunk(&self, chunk: u64, out: &mut Vec<GenOrder>) {
        out.clear();
        let mut rng = rng_for(self.spec.seed, PART_ORDERS, chunk);
        let window = (self.until_ms - self.orders_from_ms) as u128;
        let total = u128::from(self.spec.orders);
        let slot = |k: u64| (u128::from(k) * window / total) as i64;
        let first = chunk * ORDERS_PER_CHUNK;
        let end = (first + ORDERS_PER_CHUNK).min(self.spec.orders);
        for k in first..end {
            let (lo, hi) = (slot(k), slot(k + 1));
            let created_ms = self.orders_from_ms + lo + rng.random_range(0..(hi - lo).max(1));
            let user = rng.random_range(1..=self.spec.users);
            let age_days = (self.until_ms - created_ms) / DAY_MS;
            let status = status_for(age_days, rng.random_range(0..100));
            let line_count = rng
                .random_range(1..=MAX_LINES)
                .min(self.spec.products as usize);
            let mut lines = [GenLine::default(); MAX_LINES];
            let mut total_minor = 0;
            for i in 0..line_count {
                let product = loop {
                    let p = rng.random_range(0..self.spec.products);
                    if lines[..i].iter().all(|l| l.product != p) {
                        break p;
                    }
                };
                let quantity = rng.random_range(1..=3);
                let unit_price_minor = self.prices[product as usize];
                total_minor += i64::from(quantity) * unit_price_minor;
                lines[i] = GenLine {
                    product,
                    quantity,
                    unit_price_minor,
                };
            }
            out.push(GenOrder {
                id: compose_id(created_ms, Self::user_shard(user), SEQUENCE_BASE),
                user,
                created_ms,
                status,
                total_minor,
                line_count,
                lines,
            });
        }
    }
}

/// Old orders are mostly delivered; recent ones still on their way.
fn status_for(age_days: i64, roll: u32) -> &'static str {
    match (age_days, roll) {
        (..2, ..40) => "pending",
        (..2, _) => "paid",
        (2..7, ..5) => "cancelled",
        (2..7, ..30) => "paid",
        (2..7, _) => "shipped",
        (7..30, ..5) => "cancelled",
        (7..30, ..20) => "shipped",
        (7..30, _) => "delivered",
        (_, ..4) => "cancelled",
        (_, ..6) => "refunded",
        _ => "delivered",
    }
}

/// The load's own connections to the database `router_pool` reaches (two: the catalog writer and
/// the shard writer share `main`): not the router's request pools, whose 5 s statement timeout
/// and slow-statement log suit requests, not a COPY of millions of rows.
async fn bulk_pool(router_pool: &PgPool) -> anyhow::Result<PgPool> {
    let options = (*router_pool.connect_options())
        .clone()
        .application_name("polygate-commerce-generate")
        .options([("statement_timeout", "0"), ("lock_timeout", "30s")])
        .disable_statement_logging();
    Ok(PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await?)
}

/// A transaction for bulk loading; its commit need not wait for the WAL flush.
async fn bulk_transaction(pool: &PgPool) -> anyhow::Result<Transaction<'static, Postgres>> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Skips the per-row foreign-key triggers for the rest of the transaction when the role may
/// (a superuser, or from PostgreSQL 15 a role granted SET on `session_replication_role`), as
/// `pg_restore --disable-triggers` does: a line's check against the partitioned `orders` costs
/// several times the insert itself. The rows reference each other by construction, and the
/// generator's test checks that they do. Returns whether the checks are skipped.
async fn skip_foreign_key_checks(
    tx: &mut Transaction<'static, Postgres>,
    database: &str,
) -> anyhow::Result<bool> {
    let mut savepoint = tx.begin().await?;
    match sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *savepoint)
        .await
    {
        Ok(_) => {
            savepoint.commit().await?;
            Ok(true)
        }
        Err(e) => {
            savepoint.rollback().await?;
            tracing::warn!(
                database,
                error = %e,
                "generator: cannot skip foreign-key triggers; loading with per-row checks (slower)"
            );
            Ok(false)
        }
    }
}

/// Users, orders and lines of the shards `owned` marks, into one database.
async fn write_shard_rows(
    pool: PgPool,
    plan: Arc<Plan>,
    owned: Vec<bool>,
    hash: Arc<str>,
    database: String,
) -> anyhow::Result<(Transaction<'static, Postgres>, Written)> {
    let mut tx = bulk_transaction(&pool).await?;
    let checks_skipped = skip_foreign_key_checks(&mut tx, &database).await?;
    let mine = |user: u64| owned[usize::from(Plan::user_shard(user))];
    let mut written = Written {
        database: database.clone(),
        foreign_key_checks_skipped: checks_skipped,
        ..Written::default()
    };

    let mut copy = CopyIn::start(
        &mut tx,
        "COPY users (id, email, name, password_hash, staff, created_at) FROM STDIN (FORMAT binary)",
    )
    .await?;
    for n in (1..=plan.spec.users).filter(|n| mine(*n)) {
        let enc = copy.row(6);
        enc.int8(plan.user_id(n));
        enc.text(&bench_email(n));
        enc.text(&format!("Bench user {n}"));
        enc.text(&hash);
        enc.boolean(false);
        enc.timestamptz(plan.user_created_ms(n));
        copy.flush_if_full().await?;
    }
    written.users = copy.finish().await.context("COPY users")?;

    let mut copy = CopyIn::start(
        &mut tx,
        "COPY addresses (id, user_id, label, recipient, line1, city, postal_code, country, \
         created_at) FROM STDIN (FORMAT binary)",
    )
    .await?;
    for n in (1..=plan.spec.users).filter(|n| mine(*n)) {
        let address = bench_address(n);
        let enc = copy.row(9);
        enc.int8(plan.address_id(n));
        enc.int8(plan.user_id(n));
        enc.text("Home");
        enc.text(&address.recipient);
        enc.text(&address.line1);
        enc.text(&address.city);
        enc.text(address.postal_code.as_deref().unwrap_or_default());
        enc.text(&address.country);
        enc.timestamptz(plan.user_created_ms(n));
        copy.flush_if_full().await?;
    }
    written.addresses = copy.finish().await.context("COPY addresses")?;

    let mut orders = Vec::with_capacity(ORDERS_PER_CHUNK as usize);
    let mut copy = CopyIn::start(
        &mut tx,
        "COPY orders (id, user_id, status, currency, total_minor, ship_to, created_at) \
         FROM STDIN (FORMAT binary)",
    )
    .await?;
    for chunk in 0..plan.chunks() {
        plan.order_chunk(chunk, &mut orders);
        for order in orders.iter().filter(|o| mine(o.user)) {
            let enc = copy.row(7);
            enc.int8(order.id);
            enc.int8(plan.user_id(order.user));
            enc.text(order.status);
            enc.text(CURRENCY);
            enc.int8(order.total_minor);
            enc.jsonb(&bench_address(order.user).to_json().to_string());
            enc.timestamptz(order.created_ms);
        }
        copy.flush_if_full().await?;
    }
    written.orders = copy.finish().await.context("COPY orders")?;

    let mut copy = CopyIn::start(
        &mut tx,
        "COPY order_items (id, order_id, created_at, product_id, sku, quantity, \
         unit_price_minor, currency) FROM STDIN (FORMAT binary)",
    )
    .await?;
    for chunk in 0..plan.chunks() {
        plan.order_chunk(chunk, &mut orders);
        for order in orders.iter().filter(|o| mine(o.user)) {
            for (i, line) in order.lines[..order.line_count].iter().enumerate() {
                let enc = copy.row(8);
                enc.int8(order.id + 1 + i as i64);
                enc.int8(order.id);
                enc.timestamptz(order.created_ms);
                enc.int8(plan.product_id(line.product));
                enc.text(&bench_sku(line.product + 1));
                enc.int4(line.quantity);
                enc.int8(line.unit_price_minor);
                enc.text(CURRENCY);
            }
        }
        copy.flush_if_full().await?;
    }
    written.lines = copy.finish().await.context("COPY order_items")?;

    let mut copy = CopyIn::start(
        &mut tx,
        "COPY payments (id, order_id, order_created_at, amount_minor, currency, status, \
         provider, provider_ref, request_key, created_at, updated_at) FROM STDIN (FORMAT binary)",
    )
    .await?;
    for chunk in 0..plan.chunks() {
        plan.order_chunk(chunk, &mut orders);
        for order in orders.iter().filter(|o| mine(o.user)) {
            let status = match order.status {
                "paid" | "shipped" | "delivered" => "captured",
                "refunded" => "refunded",
                _ => continue,
            };
            let payment = order.id + PAYMENT_SEQUENCE_OFFSET;
            let enc = copy.row(11);
            enc.int8(payment);
            enc.int8(order.id);
            enc.timestamptz(order.created_ms);
            enc.int8(order.total_minor);
            enc.text(CURRENCY);
            enc.text(status);
            enc.text(crate::payments::FAKE_PROVIDER);
            enc.text(&format!("fake_bench_{payment}"));
            enc.text(&format!("bench-{}", order.id));
            enc.timestamptz(order.created_ms);
            enc.timestamptz(order.created_ms);
        }
        copy.flush_if_full().await?;
    }
    written.payments = copy.finish().await.context("COPY payments")?;
    Ok((tx, written))
}

/// Products, prices, stock, the warehouse and the email claims, into the catalog database.
async fn write_catalog(
    pool: PgPool,
    plan: Arc<Plan>,
) -> anyhow::Result<(Transaction<'static, Postgres>, u64)> {
    let mut tx = bulk_transaction(&pool).await?;
    let warehouse_id: i64 = sqlx::query_scalar(
        "INSERT INTO warehouses (id, code, name, country) VALUES ($1, $2, 'Bench warehouse', 'DE')
         ON CONFLICT (code) DO UPDATE SET code = EXCLUDED.code RETURNING id",
    )
    .bind(plan.warehouse_id())
    .bind(BENCH_WAREHOUSE)
    .fetch_one(&mut *tx)
    .await?;
    let mut rows = 1;
    let products = 0..plan.spec.products;

    let mut copy = CopyIn::start(
        &mut tx,
        "COPY products (id, sku, name, description, active, created_at) FROM STDIN (FORMAT binary)",
    )
    .await?;
    for p in products.clone() {
        let enc = copy.row(6);
        enc.int8(plan.product_id(p));
        enc.text(&bench_sku(p + 1));
        enc.text(&format!("Bench product {}", p + 1));
        enc.text("");
        enc.boolean(true);
        enc.timestamptz(plan.product_created_ms(p));
        copy.flush_if_full().await?;
    }
    rows += copy.finish().await.context("COPY products")?;

    // One price per product, so the price row takes its product's id.
    let mut copy = CopyIn::start(
        &mut tx,
        "COPY prices (id, product_id, currency, amount_minor, valid_from) FROM STDIN (FORMAT binary)",
    )
    .await?;
    for p in products.clone() {
        let enc = copy.row(5);
        enc.int8(plan.product_id(p));
        enc.int8(plan.product_id(p));
        enc.text(CURRENCY);
        enc.int8(plan.prices[p as usize]);
        enc.timestamptz(plan.product_created_ms(p));
        copy.flush_if_full().await?;
    }
    rows += copy.finish().await.context("COPY prices")?;

    let mut copy = CopyIn::start(
        &mut tx,
        "COPY inventory (product_id, warehouse_id, on_hand, reserved, updated_at) \
         FROM STDIN (FORMAT binary)",
    )
    .await?;
    for p in products {
        let enc = copy.row(5);
        enc.int8(plan.product_id(p));
        enc.int8(warehouse_id);
        enc.int8(i64::from(BENCH_STOCK));
        enc.int8(0);
        enc.timestamptz(plan.product_created_ms(p));
        copy.flush_if_full().await?;
    }
    rows += copy.finish().await.context("COPY inventory")?;

    let mut copy = CopyIn::start(
        &mut tx,
        "COPY user_emails (email, user_id, claimed_at) FROM STDIN (FORMAT binary)",
    )
    .await?;
    for n in 1..=plan.spec.users {
        let enc = copy.row(3);
        enc.text(&bench_email(n));
        enc.int8(plan.user_id(n));
        enc.timestamptz(plan.user_created_ms(n));
        copy.flush_if_full().await?;
    }
    rows += copy.finish().await.context("COPY user_emails")?;
    Ok((tx, rows))
}

/// One `COPY … FROM STDIN (FORMAT binary)` in progress: rows are encoded into a buffer that is
/// sent whenever it passes [`FLUSH_BYTES`].
struct CopyIn<'c> {
    sink: PgCopyIn<&'c mut PgConnection>,
    enc: Encoder,
    table: String,
    started: Instant,
}

impl<'c> CopyIn<'c> {
    async fn start(conn: &'c mut PgConnection, statement: &str) -> anyhow::Result<Self> {
        let sink = conn
            .copy_in_raw(statement)
            .await
            .with_context(|| format!("cannot start {statement}"))?;
        let table = statement
            .split_whitespace()
            .nth(1)
            .unwrap_or("?")
            .to_owned();
        Ok(Self {
            sink,
            enc: Encoder::new(),
            table,
            started: Instant::now(),
        })
    }

    /// Starts a row of `fields` fields; the caller writes exactly that many.
    fn row(&mut self, fields: i16) -> &mut Encoder {
        self.enc.buf.extend_from_slice(&fields.to_be_bytes());
        &mut self.enc
    }

    async fn flush_if_full(&mut self) -> anyhow::Result<()> {
        if self.enc.buf.len() >= FLUSH_BYTES {
            self.sink.send(std::mem::take(&mut self.enc.buf)).await?;
            self.enc.buf.reserve(FLUSH_BYTES + 4096);
        }
        Ok(())
    }

    /// Sends the rest and the trailer; returns the rows the server stored.
    async fn finish(mut self) -> anyhow::Result<u64> {
        self.enc.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.sink.send(std::mem::take(&mut self.enc.buf)).await?;
        let rows = self.sink.finish().await?;
        let secs = self.started.elapsed().as_secs_f64();
        tracing::info!(table = %self.table, rows, secs, "generator: copied");
        Ok(rows)
    }
}

/// PostgreSQL's binary COPY format: a header, then per row a field count and per field its
/// length and its value in the type's binary send format.
struct Encoder {
    buf: Vec<u8>,
}

/// 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix milliseconds.
const PG_EPOCH_UNIX_MS: i64 = 946_684_800_000;

impl Encoder {
    fn new() -> Self {
        let mut buf = Vec::with_capacity(FLUSH_BYTES + 4096);
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0i32.to_be_bytes()); // flags
        buf.extend_from_slice(&0i32.to_be_bytes()); // header extension length
        Self { buf }
    }

    fn field(&mut self, bytes: &[u8]) {
        self.buf
            .extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        self.buf.extend_from_slice(bytes);
    }

    fn int8(&mut self, v: i64) {
        self.field(&v.to_be_bytes());
    }

    fn int4(&mut self, v: i32) {
        self.field(&v.to_be_bytes());
    }

    fn boolean(&mut self, v: bool) {
        self.field(&[u8::from(v)]);
    }

    /// TEXT, VARCHAR and CHAR(n) all send their UTF-8 bytes.
    fn text(&mut self, v: &str) {
        self.field(v.as_bytes());
    }

    /// JSONB: a version byte (1), then the JSON text.
    fn jsonb(&mut self, json: &str) {
        self.buf
            .extend_from_slice(&(json.len() as i32 + 1).to_be_bytes());
        self.buf.push(1);
        self.buf.extend_from_slice(json.as_bytes());
    }

    /// TIMESTAMPTZ: microseconds since 2000-01-01 UTC.
    fn timestamptz(&mut self, unix_ms: i64) {
        self.int8((unix_ms - PG_EPOCH_UNIX_MS) * 1000);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::ids::shard_of;

    fn spec(users: u64, orders: u64) -> Spec {
        Spec {
            users,
            orders,
            products: 50,
            seed: 7,
            until: midnight(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()),
        }
    }

    fn all_orders(plan: &Plan) -> Vec<GenOrder> {
        let mut all = Vec::new();
        let mut chunk = Vec::new();
        for c in 0..plan.chunks() {
            plan.order_chunk(c, &mut chunk);
            all.extend_from_slice(&chunk);
        }
        all
    }

    #[test]
    fn ids_are_unique_carry_their_shard_and_use_the_upper_sequence_half() {
        let plan = Plan::new(spec(300_000, 20_000)).unwrap();
        let users: Vec<i64> = (1..=plan.spec.users).map(|n| plan.user_id(n)).collect();
        assert_eq!(users.iter().collect::<HashSet<_>>().len(), users.len());
        for (i, id) in users.iter().enumerate() {
            let n = i as u64 + 1;
            assert_eq!(shard_of(*id), (n % 256) as u16);
            assert!(*id as u64 & 1023 >= SEQUENCE_BASE);
        }
        let orders = all_orders(&plan);
        let mut ids = HashSet::new();
        for order in &orders {
            assert_eq!(shard_of(order.id), Plan::user_shard(order.user));
            assert!(ids.insert(order.id));
            for i in 0..order.line_count {
                assert!(ids.insert(order.id + 1 + i as i64), "a line id repeats");
                assert_eq!(shard_of(order.id + 1 + i as i64), shard_of(order.id));
            }
        }
        assert!(orders.windows(2).all(|w| w[0].created_ms < w[1].created_ms));
    }

    #[test]
    fn the_same_seed_makes_the_same_orders_and_another_seed_does_not() {
        let a = all_orders(&Plan::new(spec(100, 10_000)).unwrap());
        let b = all_orders(&Plan::new(spec(100, 10_000)).unwrap());
        let key = |o: &GenOrder| (o.id, o.user, o.status, o.total_minor, o.line_count);
        assert!(a.iter().map(key).eq(b.iter().map(key)));
        let other = all_orders(
            &Plan::new(Spec {
                seed: 8,
                ..spec(100, 10_000)
            })
            .unwrap(),
        );
        assert!(!a.iter().map(key).eq(other.iter().map(key)));
    }

    #[test]
    fn orders_fall_in_the_window_before_until_and_old_ones_are_mostly_delivered() {
        let plan = Plan::new(spec(100, 50_000)).unwrap();
        let orders = all_orders(&plan);
        assert!(
            orders
                .iter()
                .all(|o| o.created_ms >= plan.orders_from_ms && o.created_ms < plan.until_ms)
        );
        assert!(
            orders
                .iter()
                .all(|o| o.created_ms > plan.user_created_ms(o.user))
        );
        let old: Vec<_> = orders
            .iter()
            .filter(|o| plan.until_ms - o.created_ms > 60 * DAY_MS)
            .collect();
        let delivered = old.iter().filter(|o| o.status == "delivered").count();
        assert!(
            delivered * 10 > old.len() * 9,
            "{delivered} of {}",
            old.len()
        );
        for o in &orders {
            let sum: i64 = o.lines[..o.line_count]
                .iter()
                .map(|l| i64::from(l.quantity) * l.unit_price_minor)
                .sum();
            assert_eq!(sum, o.total_minor);
        }
    }

    #[test]
    fn a_window_before_the_id_epoch_is_cut_at_the_epoch() {
        let plan = Plan::new(spec(10, 10)).unwrap();
        assert_eq!(plan.start_ms, EPOCH_UNIX_MS as i64);
        let late = Spec {
            until: midnight(NaiveDate::from_ymd_opt(2026, 1, 2).unwrap()),
            ..spec(10, 10)
        };
        assert!(Plan::new(late).is_err());
    }

    #[test]
    fn the_binary_encoding_matches_postgres_formats() {
        let mut enc = Encoder::new();
        let header_len = enc.buf.len();
        enc.timestamptz(PG_EPOCH_UNIX_MS + 1);
        enc.jsonb("{}");
        assert_eq!(&enc.buf[header_len..header_len + 4], &8i32.to_be_bytes());
        assert_eq!(
            &enc.buf[header_len + 4..header_len + 12],
            &1000i64.to_be_bytes()
        );
        assert_eq!(&enc.buf[header_len + 12..], &[0, 0, 0, 3, 1, b'{', b'}']);
    }
}
