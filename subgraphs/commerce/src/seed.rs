//! Demo data: two named accounts and 60 numbered ones, so list queries have enough rows.
//!
//! Non-obvious: every demo account shares the password `polygate-demo`, so it is hashed once and
//! the one hash is reused; 62 argon2 hashes at the production cost would slow start-up for
//! nothing. Seeding is skipped when alice already exists, so restarts are no-ops.

use crate::domain::{DisplayName, Email, NewUser, Password};
use crate::ids::UserId;
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

/// What `seed_demo` did: `skipped` when the demo data was already there.
#[derive(Debug, Clone, Default)]
pub struct SeedReport {
    pub skipped: bool,
    pub created: Vec<SeededUser>,
}

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

/// Creates the demo accounts unless alice exists.
pub async fn seed_demo(
    store: &dyn CommerceStore,
    hasher: &PasswordHasher,
) -> anyhow::Result<SeedReport> {
    let alice = Email::parse("alice@example.com")?;
    if store.user_by_email(&alice).await?.is_some() {
        return Ok(SeedReport {
            skipped: true,
            created: Vec::new(),
        });
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
    Ok(SeedReport {
        skipped: false,
        created,
    })
}
