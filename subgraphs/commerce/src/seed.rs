//! Demo data: two named accounts and 60 numbered ones (each with an address to ship to), so list
//! queries have enough rows, and a small catalog (one warehouse, eight products in three categories, USD and some EUR prices,
//! stock) so orders can be placed right away.
//!
//! Non-obvious: every demo account shares the password `polygate-demo`, so it is hashed once and
//! the one hash is reused; 62 argon2 hashes at the production cost would slow start-up for
//! nothing. Each part is skipped when it exists (users: alice; catalog: every demo SKU), so
//! restarts are no-ops; a catalog seed cut short is finished by the next run, because products
//! are looked up by SKU and stock is added with fixed idempotency keys.

use crate::domain::{
    AddAddressOutcome, AddressParts, CategorySlug, Currency, DisplayName, Email, IdempotencyKey,
    Money, NewAddress, NewProduct, NewUser, Password, PostalAddress, ProductName, Quantity,
    Restock, RestockOutcome, Sku, WarehouseCode,
};
use crate::ids::{DEFAULT_SHARD, ProductId, UserId};
use crate::password::PasswordHasher;
use crate::store::CommerceStore;

pub const DEMO_PASSWORD: &str = "polygate-demo";
pub const NUMBERED_USERS: usize = 60;

/// A seeded account, enough to issue a session for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededUser {
    pub id: UserId,
    pub email: String,
    pub staff: bool,
}

/// What `seed_demo` did: `skipped` when the demo data was already there (nothing created).
#[derive(Debug, Clone, Default)]
pub struct SeedReport {
    pub skipped: bool,
    /// The users created.
    pub created: Vec<SeededUser>,
    /// How many products were created.
    pub products: usize,
}

/// The code of the demo warehouse all demo stock is in.
pub const DEMO_WAREHOUSE: &str = "BER-1";

/// One product of the demo catalog; prices in minor units.
#[derive(Debug, Clone, Copy)]
pub struct DemoProduct {
    pub sku: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub category: &'static str,
    pub usd_minor: i64,
    pub eur_minor: Option<i64>,
    /// Units added to [`DEMO_WAREHOUSE`] once.
    pub stock: i32,
}

/// The demo catalog: kitchen, office and outdoor products; the tent is nearly sold out.
pub const DEMO_CATALOG: [DemoProduct; 8] = [
    DemoProduct {
        sku: "MUG-01",
        name: "Stoneware mug",
        description: "A 350 ml mug, glazed inside and out.",
        category: "kitchen",
        usd_minor: 1400,
        eur_minor: Some(1300),
        stock: 120,
    },
    DemoProduct {
        sku: "KETTLE-01",
        name: "Gooseneck kettle",
        description: "One litre, for pour-over coffee.",
        category: "kitchen",
        usd_minor: 5900,
        eur_minor: Some(5500),
        stock: 25,
    },
    DemoProduct {
        sku: "KNIFE-01",
        name: "Chef's knife",
        description: "A 20 cm blade of stainless steel.",
        category: "kitchen",
        usd_minor: 8900,
        eur_minor: None,
        stock: 30,
    },
    DemoProduct {
        sku: "NOTEBOOK-A5",
        name: "Dotted notebook A5",
        description: "192 pages of 100 g paper.",
        category: "office",
        usd_minor: 1250,
        eur_minor: Some(1150),
        stock: 200,
    },
    DemoProduct {
        sku: "PEN-01",
        name: "Fountain pen",
        description: "A steel nib, medium, with a converter.",
        category: "office",
        usd_minor: 3400,
        eur_minor: None,
        stock: 60,
    },
    DemoProduct {
        sku: "LAMP-01",
        name: "Desk lamp",
        description: "Dimmable LED on an adjustable arm.",
        category: "office",
        usd_minor: 4900,
        eur_minor: Some(4500),
        stock: 40,
    },
    DemoProduct {
        sku: "BOTTLE-01",
        name: "Insulated bottle",
        description: "750 ml; keeps drinks cold for a day.",
        category: "outdoor",
        usd_minor: 2900,
        eur_minor: Some(2700),
        stock: 80,
    },
    DemoProduct {
        sku: "TENT-2P",
        name: "Two-person tent",
        description: "A freestanding tent, 2.1 kg.",
        category: "outdoor",
        usd_minor: 24900,
        eur_minor: None,
        stock: 5,
    },
];

/// `(email, name, staff)` of every demo account, alice first.
pub fn demo_accounts() -> Vec<(String, String, bool)> {
    let mut accounts = vec![
        (
            "alice@example.com".to_owned(),
            "Alice Admin".to_owned(),
            true,
        ),
        ("bob@example.com".to_owned(), "Bob Buyer".to_owned(), false),
    ];
    accounts.extend((1..=NUMBERED_USERS).map(|n| {
        (
            format!("user{n:03}@example.com"),
            format!("User {n:03}"),
            false,
        )
    }));
    accounts
}

/// Creates the demo accounts unless alice exists, and the demo catalog unless every demo SKU
/// exists.
pub async fn seed_demo(
    store: &dyn CommerceStore,
    hasher: &PasswordHasher,
) -> anyhow::Result<SeedReport> {
    let created = seed_users(store, hasher).await?;
    seed_addresses(store).await?;
    let products = seed_catalog(store).await?;
    Ok(SeedReport {
        skipped: created.is_empty() && products == 0,
        created,
        products,
    })
}

async fn seed_users(
    store: &dyn CommerceStore,
    hasher: &PasswordHasher,
) -> anyhow::Result<Vec<SeededUser>> {
    let alice = Email::parse("alice@example.com")?;
    if store.user_by_email(&alice).await?.is_some() {
        return Ok(Vec::new());
    }
    let hash = hasher.hash(&Password::parse(DEMO_PASSWORD)?).await?;
    let mut created = Vec::new();
    for (email, name, staff) in demo_accounts() {
        let mut new = NewUser::new(
            Email::parse(&email)?,
            DisplayName::parse(&name)?,
            hash.clone(),
        );
        new.staff = staff;
        let user = store.create_user(new).await?;
        created.push(SeededUser {
            id: user.id,
            email: user.email.to_string(),
            staff: user.staff,
        });
    }
    tracing::info!(users = created.len(), "seeded demo users");
    Ok(created)
}

/// Where demo account `n` (0 is alice) lives: Berlin, one street number each.
pub fn demo_address(name: &str, n: usize) -> anyhow::Result<PostalAddress> {
    Ok(PostalAddress::parse(&AddressParts {
        recipient: name,
        line1: &format!("Demo Street {}", n + 1),
        line2: None,
        city: "Berlin",
        region: None,
        postal_code: Some("10115"),
        country: "DE",
    })?)
}

/// Gives every demo account an address (so its orders have somewhere to ship) unless bob, the
/// demo buyer, has one; also fills in databases seeded before addresses existed.
async fn seed_addresses(store: &dyn CommerceStore) -> anyhow::Result<()> {
    let bob = Email::parse("bob@example.com")?;
    let Some(found) = store.user_by_email(&bob).await? else {
        return Ok(());
    };
    if !store.addresses(found.user.id).await?.is_empty() {
        return Ok(());
    }
    for (n, (email, name, _)) in demo_accounts().iter().enumerate() {
        let Some(user) = store.user_by_email(&Email::parse(email)?).await? else {
            continue;
        };
        if !store.addresses(user.user.id).await?.is_empty() {
            continue;
        }
        let new = NewAddress::new(user.user.id, Some("Home"), demo_address(name, n)?)?;
        match store.add_address(&new).await? {
            AddAddressOutcome::Added(_) | AddAddressOutcome::BookFull => {}
            AddAddressOutcome::UnknownUser => anyhow::bail!("demo user {email} vanished"),
        }
    }
    tracing::info!("seeded demo addresses");
    Ok(())
}

/// Creates the missing demo products (with their prices) and stocks every one once; returns
/// how many products it created.
async fn seed_catalog(store: &dyn CommerceStore) -> anyhow::Result<usize> {
    let skus = DEMO_CATALOG
        .iter()
        .map(|demo| Sku::parse(demo.sku))
        .collect::<Result<Vec<_>, _>>()?;
    let existing = store.products_by_skus(&skus, None).await?;
    if existing.len() == skus.len() {
        return Ok(0);
    }
    let warehouse = WarehouseCode::parse(DEMO_WAREHOUSE)?;
    store.ensure_warehouse(&warehouse, "Berlin 1", "DE").await?;
    let eur = Currency::parse("EUR")?;
    let mut created = 0;
    for (demo, sku) in DEMO_CATALOG.iter().zip(skus) {
        let product = match existing.iter().find(|p| p.sku == sku) {
            Some(product) => product.clone(),
            None => {
                created += 1;
                store
                    .create_product(NewProduct {
                        id: ProductId::new(DEFAULT_SHARD),
                        sku,
                        name: ProductName::parse(demo.name)?,
                        description: demo.description.to_owned(),
                        category: Some(CategorySlug::parse(demo.category)?),
                        price: Money::new(demo.usd_minor, Currency::usd())?,
                    })
                    .await?
            }
        };
        if let Some(eur_minor) = demo.eur_minor
            && product.price_in(&eur).is_none()
        {
            store
                .set_price(product.id, Money::new(eur_minor, eur.clone())?)
                .await?;
        }
        let restock = Restock {
            key: IdempotencyKey::parse(&format!("demo-seed-{}", demo.sku))?,
            product: product.id,
            warehouse: warehouse.clone(),
            quantity: Quantity::new(demo.stock, "quantity")?,
        };
        match store.restock(&restock).await? {
            RestockOutcome::Applied | RestockOutcome::AlreadyApplied => {}
            refused => anyhow::bail!("seeding stock of {} was refused: {refused:?}", demo.sku),
        }
    }
    tracing::info!(products = created, "seeded the demo catalog");
    Ok(created)
}
