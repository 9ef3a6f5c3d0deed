//! `[subgraphs.telemetry]`: where readings live and how long each kind is kept.

use chrono::{DateTime, Duration, Utc};
use polygate_kit::SettingsError;
use serde::{Deserialize, Serialize};

use crate::store::RetentionCutoffs;

/// The telemetry subgraph's settings; the default is the embedded SQLite store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetrySettings {
    /// `embedded` (`telemetry.db` under `server.data_dir`), `sqlite://PATH`, or
    /// `postgres://USER@HOST:PORT/DB` (TimescaleDB or plain PostgreSQL, detected at start-up).
    pub store: String,
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
    }

    #[test]
    fn unknown_keys_are_refused() {
        let parsed: Result<TelemetrySettings, _> = toml::from_str("stroe = \"embedded\"");
        assert!(parsed.is_err());
    }
}
