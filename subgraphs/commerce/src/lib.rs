//! The commerce subgraph: users in GraphQL now; the catalog/order schema and its monthly
//! partition [`maintenance`] on Postgres are in place for the next increments; sharding later.
//!
//! Everything outside talks to it through this file: [`connect`] a store by URL, build the
//! [`schema`], and expose the store as a readiness [`probe`]. Non-obvious: the store is chosen at
//! run time from the URL scheme and hidden behind the [`CommerceStore`] port, so the schema never
//! knows whether Postgres or SQLite answers.

use std::sync::Arc;

use anyhow::Context as _;
use polygate_kit::auth::SessionIssuer;

pub mod cache;
pub mod domain;
pub mod generator;
pub mod ids;
pub mod maintenance;
pub mod migrate;
pub mod orders;
pub mod password;
pub mod payments;
pub mod probe;
pub mod schema;
pub mod seed;
pub mod settings;
pub mod store;
pub mod subgraph;
pub mod upkeep;

pub use cache::{CacheSettings, CachingStore, ProductCache, with_cache};
pub use domain::{
    DisplayName, Email, InvalidInput, NewUser, Password, PasswordHash, User, UserWithHash,
};
pub use ids::{MalformedId, UserId};
pub use password::{HashError, PasswordHasher};
pub use schema::{CommerceSchema, Mutation, Query, sdl};
pub use seed::{SeedReport, SeededUser, seed_demo};
pub use settings::{OpenedStore, StoreSettings, background_tasks, open};
pub use store::{CommerceStore, PostgresStore, SqliteStore, StoreError};
pub use subgraph::{Commerce, CommerceSettings};

/// The subgraph's name in metrics, logs and the gateway's supergraph.
pub const NAME: &str = "commerce";

/// The federation-enabled schema, paying through the fake provider (no callbacks). Without an
/// `issuer` (the standalone binary), `login` and `logout` answer `INTERNAL` "sign-in is served by
/// the gateway".
pub fn schema(
    store: Arc<dyn CommerceStore>,
    issuer: Option<Arc<dyn SessionIssuer>>,
    hasher: PasswordHasher,
) -> CommerceSchema {
    schema::build(
        store,
        issuer,
        hasher,
        Arc::new(payments::FakeProvider::new()),
    )
}

/// [`schema`] with the payment provider given.
pub fn schema_with_provider(
    store: Arc<dyn CommerceStore>,
    issuer: Option<Arc<dyn SessionIssuer>>,
    hasher: PasswordHasher,
    provider: Arc<dyn payments::PaymentProvider>,
) -> CommerceSchema {
    schema::build(store, issuer, hasher, provider)
}

/// The store as a readiness probe named `commerce/<engine>`.
pub fn probe(store: Arc<dyn CommerceStore>) -> Arc<dyn polygate_kit::Probe> {
    Arc::new(probe::StoreProbe(store))
}

/// Opens and migrates the store at `store_url`: `sqlite://PATH` (file and parent directory are
/// created) or `postgres://…` / `postgresql://…`.
pub async fn connect(store_url: &str) -> anyhow::Result<Arc<dyn CommerceStore>> {
    if let Some(path) = store_url.strip_prefix("sqlite://") {
        anyhow::ensure!(!path.is_empty(), "store URL {store_url:?} has no file path");
        let store = SqliteStore::open(std::path::Path::new(path))
            .await
            .with_context(|| format!("cannot open the SQLite store at {path}"))?;
        Ok(Arc::new(store))
    } else if store_url.starts_with("postgres://") || store_url.starts_with("postgresql://") {
        let store = PostgresStore::connect(store_url)
            .await
            .with_context(|| format!("cannot reach Postgres at {}", redact(store_url)))?;
        Ok(Arc::new(store))
    } else {
        anyhow::bail!(
            "unsupported store URL {:?}: use sqlite://PATH or postgres://…",
            redact(store_url)
        )
    }
}

/// `url` without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(None);
            }
            parsed.to_string()
        }
        Err(_) => "<unparseable URL>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_drops_only_the_password() {
        assert_eq!(
            redact("postgres://app:s3cret@db.internal:5432/commerce"),
            "postgres://app@db.internal:5432/commerce"
        );
        assert_eq!(redact("postgres://db/x"), "postgres://db/x");
    }

    #[tokio::test]
    async fn unknown_schemes_are_refused() {
        let err = connect("mysql://u:pw@h/db").await.err().expect("refused");
        let message = err.to_string();
        assert!(
            message.contains("mysql://u@h/db") && !message.contains("pw"),
            "{message}"
        );
    }
}
