//! `[subgraphs.catalog]`: where the content lives, how it is read, and the cache in front.

use serde::{Deserialize, Serialize};

use polygate_kit::SettingsError;
use polygate_kit::secret::{Secret, credentials};

/// The catalog's settings; the default is the embedded store with the in-memory cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogSettings {
    /// `embedded` (SQLite at `<data_dir>/catalog.db`), or a MongoDB URL: `mongodb://…` or
    /// `mongodb+srv://…` (Atlas). Any URL option (`readPreference`, `w`, TLS) works as usual.
    pub store: String,
    /// The MongoDB user, instead of the one in the URL: a literal or
    /// `{ aws_secret = "arn:…", key = "username" }` (AWS Secrets Manager, read at open).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<Secret>,
    /// The MongoDB password, instead of the one in the URL: a literal or
    /// `{ aws_secret = "arn:…", key = "password" }` (AWS Secrets Manager, read at open).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// MongoDB only: the database holding the `products`, `reviews` and `content_changes`
    /// collections.
    pub database: String,
    /// MongoDB only: where reads go — `primary`, `primaryPreferred`, `secondary`,
    /// `secondaryPreferred` or `nearest`. Writes always go to the primary; the outbox and
    /// the read after a write always read the primary.
    pub read_preference: String,
    /// The cache in front of the store: `embedded` (in-process memory), `redis://…`,
    /// `redis-cluster://host:port,host:port,…`, or `off`.
    pub cache: String,
    /// Life of a cached product document, in seconds (each entry gets ±10 % jitter).
    pub cache_ttl_secs: u64,
    /// Life of a cached `catalogSearch` page, in seconds (±10 % jitter).
    pub page_ttl_secs: u64,
    /// Store calls slower than this many milliseconds are logged and counted as slow.
    pub slow_op_ms: u64,
    /// How often the background migrator looks for documents in an old shape, in seconds.
    pub migrate_every_secs: u64,
}

impl Default for CatalogSettings {
    fn default() -> Self {
        Self {
            store: "embedded".into(),
            username: None,
            password: None,
            database: "polygate_catalog".into(),
            read_preference: "primary".into(),
            cache: "embedded".into(),
            cache_ttl_secs: 60,
            page_ttl_secs: 15,
            slow_op_ms: 100,
            migrate_every_secs: 60,
        }
    }
}

/// `embedded`, `off`, a Redis URL, or a Redis Cluster URL with several `host:port`s (which
/// `config::check_store` refuses: a URL has one port).
fn check_cache(cache: &str) -> Result<(), String> {
    match polygate_kit::redis::cluster_builder(cache) {
        Some(builder) => builder.map(|_| ()),
        None => polygate_kit::config::check_store(cache, &["off", "redis", "rediss"]),
    }
}

/// The read preferences the driver accepts, by their names in MongoDB URLs.
pub const READ_PREFERENCES: [&str; 5] = [
    "primary",
    "primaryPreferred",
    "secondary",
    "secondaryPreferred",
    "nearest",
];

impl CatalogSettings {
    pub fn is_embedded(&self) -> bool {
        self.store == polygate_kit::config::EMBEDDED
    }

    /// `username` and `password`, references read from AWS Secrets Manager (only when one is
    /// used); `None` keeps the URL's own.
    pub async fn credentials(&self) -> anyhow::Result<(Option<String>, Option<String>)> {
        let (user, pass) = (self.username.as_ref(), self.password.as_ref());
        let resolver = credentials::resolver_for(&[user, pass]).await;
        Ok((
            credentials::resolve("username", user, resolver.as_ref()).await?,
            credentials::resolve("password", pass, resolver.as_ref()).await?,
        ))
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        polygate_kit::config::check_store(&self.store, &["mongodb", "mongodb+srv"])
            .map_err(|m| SettingsError::new("store", m))?;
        for (key, secret) in [("username", &self.username), ("password", &self.password)] {
            credentials::check(key, secret.as_ref())?;
            if secret.is_some() && self.is_embedded() {
                return Err(SettingsError::new(
                    key,
                    "needs a mongodb:// or mongodb+srv:// store",
                ));
            }
        }
        let db_ok = (1..=63).contains(&self.database.len())
            && !self
                .database
                .contains(['/', '\\', '.', ' ', '"', '$', '\0']);
        if !db_ok {
            return Err(SettingsError::new(
                "database",
                "1 to 63 characters without / \\ . space \" $",
            ));
        }
        if !READ_PREFERENCES.contains(&self.read_preference.as_str()) {
            return Err(SettingsError::new(
                "read_preference",
                format!("one of {}", READ_PREFERENCES.join(", ")),
            ));
        }
        check_cache(&self.cache).map_err(|m| SettingsError::new("cache", m))?;
        for (key, value) in [
            ("cache_ttl_secs", self.cache_ttl_secs),
            ("page_ttl_secs", self.page_ttl_secs),
            ("slow_op_ms", self.slow_op_ms),
            ("migrate_every_secs", self.migrate_every_secs),
        ] {
            if value == 0 {
                return Err(SettingsError::new(key, "must be at least 1"));
            }
        }
        Ok(())
    }
}

/// `[subgraphs.catalog]` and `server.data_dir` as `serve` would read them (file, then
/// `POLYGATE_*` variables), for the binary's own subcommands (`dump`, `restore`, `generate`).
///
/// Non-obvious: the kit's `Standalone::load` validates the whole configuration but hands back
/// the section opaque, so the section is parsed again here into its type after that check.
pub fn load(
    standalone: &polygate_kit::standalone::Standalone,
    args: &polygate_kit::standalone::ConfigArgs,
) -> anyhow::Result<(CatalogSettings, std::path::PathBuf)> {
    use polygate_kit::config;
    let loaded = standalone.load(args)?;
    let path = args
        .config
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("polygate.toml"));
    let text = config::read_file(&path, args.config.is_some())?;
    let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    let entry = polygate_kit::subgraph::entry::<crate::Catalog>();
    let mut known = polygate_kit::standalone::section_keys(entry.as_ref());
    known.push("server.data_dir".into());
    let mut table = config::layered(&path.display().to_string(), &text, &env, &known)?;
    let mut section = table
        .remove("subgraphs")
        .and_then(|s| s.as_table().and_then(|s| s.get(crate::NAME)).cloned())
        .and_then(|s| s.as_table().cloned())
        .unwrap_or_default();
    section.remove(config::URL_KEY);
    section.remove(config::LISTEN_KEY);
    let settings: CatalogSettings = toml::Value::Table(section).try_into()?;
    Ok((settings, loaded.data_dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_a_literal_or_a_secret_and_a_bad_one_is_named() {
        let parsed: CatalogSettings = toml::from_str(
            r#"
            store = "mongodb+srv://catalog.abcde.mongodb.net/"
            username = "catalog"
            password = { aws_secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:atlas-AbCdEf", key = "password" }
            "#,
        )
        .unwrap();
        parsed.validate().unwrap();
        assert!(parsed.password.as_ref().unwrap().is_reference());
        let embedded = CatalogSettings {
            password: Some(Secret::Value("pw".into())),
            ..CatalogSettings::default()
        };
        assert_eq!(embedded.validate().unwrap_err().key, "password");
        let bad_arn = CatalogSettings {
            store: "mongodb://db:27017".into(),
            username: Some(Secret::Aws(polygate_kit::secret::AwsSecretRef {
                aws_secret: "atlas".into(),
                key: None,
            })),
            ..CatalogSettings::default()
        };
        assert_eq!(bad_arn.validate().unwrap_err().key, "username");
    }

    #[test]
    fn the_default_is_embedded_and_valid() {
        let s = CatalogSettings::default();
        assert!(s.is_embedded());
        s.validate().unwrap();
    }

    #[test]
    fn every_documented_store_and_cache_form_is_accepted() {
        for (store, cache) in [
            ("embedded", "embedded"),
            (
                "mongodb://u:p@127.0.0.1:27017/?replicaSet=rs0",
                "redis://127.0.0.1:6379",
            ),
            (
                "mongodb+srv://u:p@cluster0.example.mongodb.net",
                "redis-cluster://127.0.0.1:7000,127.0.0.1:7001",
            ),
            ("embedded", "off"),
            // The cloud's TLS forms: Atlas (SRV, TLS implied, or explicit `tls=true` on a
            // seed list) and ElastiCache with encryption in transit.
            (
                "mongodb+srv://u:p@cluster0.example.mongodb.net/?tls=true&retryWrites=true",
                "rediss://cache.example.com:6379",
            ),
            (
                "mongodb://u:p@h1.example.net:27017,h2.example.net:27017/?tls=true&replicaSet=rs0",
                "rediss-cluster://u:p@cfg.example.com:6379,node2.example.com:6379",
            ),
        ] {
            let s = CatalogSettings {
                store: store.into(),
                cache: cache.into(),
                ..CatalogSettings::default()
            };
            s.validate()
                .unwrap_or_else(|e| panic!("{store} {cache}: {e}"));
        }
    }

    #[test]
    fn bad_keys_are_named() {
        let bad = |f: fn(&mut CatalogSettings)| {
            let mut s = CatalogSettings::default();
            f(&mut s);
            s.validate().unwrap_err().key
        };
        assert_eq!(bad(|s| s.store = "postgres://x".into()), "store");
        assert_eq!(
            bad(|s| s.read_preference = "secondaryPrefered".into()),
            "read_preference"
        );
        assert_eq!(bad(|s| s.cache = "memcached://x".into()), "cache");
        assert_eq!(bad(|s| s.database = "a.b".into()), "database");
        assert_eq!(bad(|s| s.page_ttl_secs = 0), "page_ttl_secs");
    }
}
