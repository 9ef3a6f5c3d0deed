//! `[subgraphs.telemetry]`: where readings live and how long each kind is kept.

use chrono::{DateTime, Duration, Utc};
use polygate_kit::SettingsError;
use polygate_kit::secret::{Secret, credentials};
use serde::{Deserialize, Serialize};

use crate::store::RetentionCutoffs;

/// The telemetry subgraph's settings; the default is the embedded SQLite store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetrySettings {
    /// `embedded` (`telemetry.db` under `server.data_dir`), `sqlite://PATH`, or
    /// `postgres://USER@HOST:PORT/DB` (TimescaleDB or plain PostgreSQL, detected at start-up).
    pub store: String,
    /// The user a `postgres://` store signs in as, instead of the URL's: a literal or
    /// `{ aws_secret = "arn:…", key = "username" }` (AWS Secrets Manager, read at open).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<Secret>,
    /// The password of a `postgres://` store, instead of the URL's (put in percent-encoded): a
    /// literal or `{ aws_secret = "arn:…", key = "password" }` (AWS Secrets Manager, read at
    /// open; a managed database secret's `password` field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// `auto`: hypertables when the server has TimescaleDB; `off`: native range partitions and
    /// our own rollup job even on TimescaleDB (fixed when a database is first migrated).
    pub timescaledb: String,
    /// Raw readings older than this many days are dropped (whole chunks or partitions).
    pub raw_retention_days: u32,
    /// 1-minute rollups older than this many days are dropped.
    pub minute_rollup_retention_days: u32,
    /// 1-hour rollups older than this many days are dropped.
    pub hour_rollup_retention_days: u32,
    /// How often rollups are refreshed, partitions prepared and retention applied, in seconds.
    pub maintenance_every_secs: u64,
    /// Most connections to a PostgreSQL store, for queries and again for ingest.
    pub max_connections: u32,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            store: "embedded".into(),
            username: None,
            password: None,
            timescaledb: "auto".into(),
            raw_retention_days: 7,
            minute_rollup_retention_days: 30,
            hour_rollup_retention_days: 365,
            maintenance_every_secs: 60,
            max_connections: 10,
        }
    }
}

impl TelemetrySettings {
    pub fn validate(&self) -> Result<(), SettingsError> {
        let store = self.store.as_str();
        let known = store == "embedded"
            || store
                .strip_prefix("sqlite://")
                .is_some_and(|p| !p.is_empty())
            || store.starts_with("postgres://")
            || store.starts_with("postgresql://");
        if !known {
            return Err(SettingsError::new(
                "store",
                "use `embedded`, sqlite://PATH or postgres://USER@HOST:PORT/DB",
            ));
        }
        for (key, secret) in [("username", &self.username), ("password", &self.password)] {
            credentials::check(key, secret.as_ref())?;
            if secret.is_some() && !store.starts_with("postgres") {
                return Err(SettingsError::new(
                    key,
                    "needs a postgres:// store (it replaces the credentials of its URL)",
                ));
            }
        }
        if !matches!(self.timescaledb.as_str(), "auto" | "off") {
            return Err(SettingsError::new("timescaledb", "use `auto` or `off`"));
        }
        if self.raw_retention_days == 0 {
            return Err(SettingsError::new(
                "raw_retention_days",
                "keep at least 1 day",
            ));
        }
        if self.minute_rollup_retention_days < self.raw_retention_days {
            return Err(SettingsError::new(
                "minute_rollup_retention_days",
                "keep rollups at least as long as raw readings",
            ));
        }
        if self.hour_rollup_retention_days < self.minute_rollup_retention_days {
            return Err(SettingsError::new(
                "hour_rollup_retention_days",
                "keep 1-hour rollups at least as long as 1-minute rollups",
            ));
        }
        if !(1..=3_600).contains(&self.maintenance_every_secs) {
            return Err(SettingsError::new(
                "maintenance_every_secs",
                "between 1 and 3600",
            ));
        }
        if !(1..=200).contains(&self.max_connections) {
            return Err(SettingsError::new("max_connections", "between 1 and 200"));
        }
        Ok(())
    }

    /// True when the store is the embedded SQLite file under the data directory.
    pub fn embedded(&self) -> bool {
        self.store == "embedded"
    }

    /// The `postgres://` store's URL with `username` / `password` put in; references are read
    /// from AWS Secrets Manager (only when one is used).
    pub async fn postgres_url(&self) -> anyhow::Result<String> {
        let (user, pass) = (self.username.as_ref(), self.password.as_ref());
        let resolver = credentials::resolver_for(&[user, pass]).await;
        credentials::url_with_credentials(&self.store, user, pass, resolver.as_ref()).await
    }

    /// Whether TimescaleDB may be used when the server has it.
    pub fn use_timescaledb(&self) -> bool {
        self.timescaledb != "off"
    }

    /// Where retention cuts each kind of data at `now`.
    pub fn cutoffs(&self, now: DateTime<Utc>) -> RetentionCutoffs {
        let days = |d: u32| now - Duration::days(i64::from(d));
        RetentionCutoffs {
            raw_before: days(self.raw_retention_days),
            minute_rollup_before: days(self.minute_rollup_retention_days),
            hour_rollup_before: days(self.hour_rollup_retention_days),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_embedded_store_and_valid() {
        let settings = TelemetrySettings::default();
        assert!(settings.embedded());
        settings.validate().unwrap();
    }

    #[test]
    fn bad_keys_are_named() {
        let bad = |f: fn(&mut TelemetrySettings)| {
            let mut s = TelemetrySettings::default();
            f(&mut s);
            s.validate().unwrap_err().key
        };
        assert_eq!(bad(|s| s.store = "mysql://x".into()), "store");
        assert_eq!(bad(|s| s.timescaledb = "yes".into()), "timescaledb");
        assert_eq!(bad(|s| s.raw_retention_days = 0), "raw_retention_days");
        assert_eq!(
            bad(|s| s.minute_rollup_retention_days = 3),
            "minute_rollup_retention_days"
        );
        assert_eq!(bad(|s| s.max_connections = 0), "max_connections");
        assert_eq!(
            bad(|s| s.password = Some(Secret::Value("pw".into()))),
            "password",
            "credentials need a postgres:// store"
        );
        assert_eq!(
            bad(|s| {
                s.store = "postgres://db/t".into();
                s.username = Some(Secret::Aws(polygate_kit::secret::AwsSecretRef {
                    aws_secret: "telemetry-db".into(),
                    key: None,
                }));
            }),
            "username"
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let parsed: Result<TelemetrySettings, _> = toml::from_str("stroe = \"embedded\"");
        assert!(parsed.is_err());
    }
}
