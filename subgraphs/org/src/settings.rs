//! `[subgraphs.org]`: where the org lives. The gateway and `polygate-org serve` both parse it
//! into [`OrgSettings`] and open the store through [`open_store`], so one configuration means the
//! same thing in either process.

use std::sync::Arc;

use anyhow::Context as _;
use polygate_kit::SettingsError;
use polygate_kit::secret::{Secret, SecretResolver, credentials};
use serde::{Deserialize, Serialize};

use crate::store::neo4j::Neo4jSettings;
use crate::store::{Neo4jStore, OrgStore, SqliteStore};

/// The embedded store's file under `server.data_dir`.
pub const EMBEDDED_FILE: &str = "org.db";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrgSettings {
    /// `embedded` (SQLite under `server.data_dir`), or a Neo4j URL: `bolt://HOST:PORT` (one
    /// server), `neo4j://HOST:PORT` (routing: writes to the leader, reads to secondaries), or
    /// `neo4j+s://…` (routing over TLS, e.g. Aura).
    pub store: String,
    /// The Neo4j user (ignored when embedded): a literal or
    /// `{ aws_secret = "arn:…", key = "username" }` (AWS Secrets Manager, read at open).
    pub user: Secret,
    /// The Neo4j password: a literal (prefer `POLYGATE_SUBGRAPHS__ORG__PASSWORD` to writing it
    /// here) or `{ aws_secret = "arn:…", key = "password" }` (AWS Secrets Manager, read at open).
    pub password: Secret,
    /// The Neo4j database (`neo4j` is the default one, and the only one on Community and the
    /// smaller Aura tiers).
    pub database: String,
    /// Bolt connections in the pool.
    pub max_connections: u32,
    /// Profile every named query on the live graph this often and export its db hits on
    /// `/metrics` (`polygate_org_query_db_hits`); 0 turns it off.
    pub profile_every_secs: u64,
}

impl Default for OrgSettings {
    fn default() -> Self {
        Self {
            store: "embedded".to_owned(),
            user: Secret::Value("neo4j".to_owned()),
            password: Secret::Value(String::new()),
            database: "neo4j".to_owned(),
            max_connections: 16,
            profile_every_secs: 0,
        }
    }
}

const NEO4J_SCHEMES: [&str; 3] = ["bolt://", "neo4j://", "neo4j+s://"];

impl OrgSettings {
    pub fn embedded(&self) -> bool {
        self.store == "embedded"
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        if !self.embedded() && !NEO4J_SCHEMES.iter().any(|s| self.store.starts_with(s)) {
            return Err(SettingsError::new(
                "store",
                format!(
                    "`{}` is neither `embedded` nor a Neo4j URL (bolt://, neo4j://, neo4j+s://)",
                    polygate_kit::config::redact(&self.store)
                ),
            ));
        }
        if !(1..=256).contains(&self.max_connections) {
            return Err(SettingsError::new("max_connections", "must be 1 to 256"));
        }
        if self.database.is_empty() {
            return Err(SettingsError::new("database", "must not be empty"));
        }
        credentials::check("user", Some(&self.user))?;
        credentials::check("password", Some(&self.password))
    }

    /// The user and password, references read from AWS Secrets Manager (only when one is used).
    pub async fn credentials(&self) -> anyhow::Result<(String, String)> {
        let resolver = credentials::resolver_for(&[Some(&self.user), Some(&self.password)]).await;
        self.credentials_with(resolver.as_ref()).await
    }

    /// The user and password, references read from `resolver`; errors name the key.
    pub async fn credentials_with(
        &self,
        resolver: &dyn SecretResolver,
    ) -> anyhow::Result<(String, String)> {
        let user = credentials::resolve("user", Some(&self.user), resolver).await?;
        let password = credentials::resolve("password", Some(&self.password), resolver).await?;
        Ok((user.unwrap_or_default(), password.unwrap_or_default()))
    }

    /// The Neo4j connection these settings name, with `user` / `password` as given.
    pub fn neo4j(&self, (user, password): (String, String)) -> Neo4jSettings {
        Neo4jSettings {
            url: self.store.clone(),
            user,
            password,
            database: self.database.clone(),
            max_connections: self.max_connections,
        }
    }
}

/// An opened store, and the Neo4j adapter itself when that is the engine (for profiling).
pub struct OpenedStore {
    pub store: Arc<dyn OrgStore>,
    pub neo4j: Option<Arc<Neo4jStore>>,
}

/// Connects to (and migrates) the store the settings name.
pub async fn open_store(
    settings: &OrgSettings,
    data_dir: &std::path::Path,
) -> anyhow::Result<OpenedStore> {
    if settings.embedded() {
        let path = data_dir.join(EMBEDDED_FILE);
        let store = SqliteStore::open(&path)
            .await
            .with_context(|| format!("cannot open the SQLite store at {}", path.display()))?;
        return Ok(OpenedStore {
            store: Arc::new(store),
            neo4j: None,
        });
    }
    let neo4j = settings.neo4j(settings.credentials().await?);
    let store = Arc::new(Neo4jStore::connect(&neo4j).await.with_context(|| {
        format!(
            "cannot reach Neo4j at {}",
            polygate_kit::config::redact(&settings.store)
        )
    })?);
    Ok(OpenedStore {
        store: store.clone(),
        neo4j: Some(store),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_embedded_store() {
        let settings = OrgSettings::default();
        assert!(settings.embedded());
        settings.validate().unwrap();
    }

    #[test]
    fn a_store_that_is_not_neo4j_is_refused_by_key() {
        let settings = OrgSettings {
            store: "postgres://x/y".into(),
            ..OrgSettings::default()
        };
        assert_eq!(settings.validate().unwrap_err().key, "store");
        for ok in [
            "bolt://127.0.0.1:7687",
            "neo4j://db:7687",
            "neo4j+s://x.databases.neo4j.io",
        ] {
            let settings = OrgSettings {
                store: ok.into(),
                ..OrgSettings::default()
            };
            settings.validate().unwrap();
        }
    }

    #[test]
    fn credentials_are_a_literal_or_a_secret_and_a_bad_reference_is_named() {
        let parsed: OrgSettings = toml::from_str(
            r#"
            store = "neo4j+s://x.databases.neo4j.io"
            user = "org"
            password = { aws_secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:aura-AbCdEf", key = "password" }
            "#,
        )
        .unwrap();
        parsed.validate().unwrap();
        assert_eq!(parsed.user, Secret::Value("org".into()));
        assert!(parsed.password.is_reference());
        let bad = OrgSettings {
            password: Secret::Aws(polygate_kit::secret::AwsSecretRef {
                aws_secret: "aura-password".into(),
                key: None,
            }),
            ..OrgSettings::default()
        };
        assert_eq!(bad.validate().unwrap_err().key, "password");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let parsed: Result<OrgSettings, _> = toml::from_str("stroe = \"embedded\"");
        assert!(parsed.is_err());
    }
}
