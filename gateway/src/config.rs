//! `polygate.toml`, layered: built-in defaults, then the file, then `POLYGATE_*` variables.
//!
//! Environment variables name a key path with double underscores, e.g.
//! `POLYGATE_SERVER__LISTEN=0.0.0.0:4000` or `POLYGATE_SUBGRAPHS__COMMERCE__STORE=postgres://…`,
//! so every key in the file can be overridden without a second list to keep in sync. Unknown keys
//! are refused by name, from either source.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

const ENV_PREFIX: &str = "POLYGATE_";
/// Variables with this prefix that belong to the test harness or logging, not to the config.
const ENV_NOT_CONFIG: [&str; 3] = [
    "POLYGATE_LOG_FORMAT",
    "POLYGATE_TEST_",
    "POLYGATE_SERVERS_DIR",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
}

fn invalid(origin: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        origin: origin.into(),
        message: message.into(),
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub limits: LimitsConfig,
    pub subgraphs: SubgraphsConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address the gateway listens on.
    pub listen: SocketAddr,
    /// The composed supergraph the gateway serves.
    pub supergraph: PathBuf,
    /// Where embedded stores keep their files.
    pub data_dir: PathBuf,
    /// Serve GraphiQL at `/`.
    pub graphiql: bool,
    /// Answer introspection queries.
    pub introspection: bool,
    /// Seed demo data on first start when the commerce store is embedded.
    pub seed_demo_data: bool,
    /// ntex worker threads; 0 means one per core.
    pub workers: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub max_body_bytes: u64,
    pub max_depth: usize,
    pub max_aliases: usize,
    /// Every subgraph call, in-process or HTTP, is cut off after this long.
    pub subgraph_timeout_ms: u64,
    /// The whole request is cut off after this long.
    pub request_timeout_ms: u64,
    /// Sustained GraphQL requests per second per client address; 0 switches the limit off.
    pub client_requests_per_sec: u32,
    /// Requests a client address may send at once before the sustained rate applies.
    pub client_burst: u32,
    /// Sustained GraphQL requests per second per signed-in session; 0 switches the limit off.
    pub session_requests_per_sec: u32,
    /// Requests a session may send at once before the sustained rate applies.
    pub session_burst: u32,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubgraphsConfig {
    pub commerce: CommerceSubgraphConfig,
    pub session: SessionSubgraphConfig,
}

/// The commerce subgraph: in-process on its store (one database, or a catalog database plus
/// shard databases, each with an optional replica) behind a product cache, or over HTTP at `url`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommerceSubgraphConfig {
    /// `embedded`, or the catalog database's URL (`postgres://…`), also the first shard home.
    pub store: String,
    /// When set, the subgraph runs as its own service at this URL and is called over HTTP.
    pub url: Option<String>,
    /// A streaming replica of `store` for reads that tolerate lag.
    pub replica: Option<String>,
    /// Further shard databases, name → `postgres://…`.
    pub shards: BTreeMap<String, String>,
    /// Replicas of shard databases, name → `postgres://…`.
    pub shard_replicas: BTreeMap<String, String>,
    /// Product cache: `embedded` (in-process memory), `redis://…`, `redis-cluster://…` or `off`.
    pub cache: String,
    /// How often abandoned order requests are finished, and how old they must be.
    pub sweep_every_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSubgraphConfig {
    pub store: String,
    pub url: Option<String>,
    pub idle_timeout_secs: u64,
    pub absolute_lifetime_secs: u64,
    /// How long the gateway trusts a token the store validated before asking again (requests in
    /// between are billed to the session's bucket at the next ask); 0 asks on every request. At
    /// most half the idle timeout is used, so a session in use never idles out.
    pub validation_cache_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 4000)),
            supergraph: PathBuf::from("schema/supergraph.graphql"),
            data_dir: PathBuf::from("data"),
            graphiql: true,
            introspection: true,
            seed_demo_data: true,
            workers: 0,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_depth: 15,
            max_aliases: 30,
            subgraph_timeout_ms: 5_000,
            request_timeout_ms: 15_000,
            client_requests_per_sec: 100,
            client_burst: 200,
            session_requests_per_sec: 20,
            session_burst: 60,
        }
    }
}

impl Default for CommerceSubgraphConfig {
    fn default() -> Self {
        Self {
            store: EMBEDDED.to_owned(),
            url: None,
            replica: None,
            shards: BTreeMap::new(),
            shard_replicas: BTreeMap::new(),
            cache: EMBEDDED.to_owned(),
            sweep_every_secs: 30,
        }
    }
}

impl Default for SessionSubgraphConfig {
    fn default() -> Self {
        Self {
            store: EMBEDDED.to_owned(),
            url: None,
            idle_timeout_secs: 30 * 60,
            absolute_lifetime_secs: 12 * 60 * 60,
            validation_cache_ms: 1_000,
        }
    }
}

pub const EMBEDDED: &str = "embedded";

impl Config {
    /// Loads `path` (if it exists, or must exist when `required`) and the process environment.
    pub fn load(path: &Path, required: bool) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => String::new(),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let env: BTreeMap<String, String> = std::env::vars().collect();
        Self::from_sources(&path.display().to_string(), &text, &env)
    }

    /// Builds the config from a file's text and an environment (pure, for tests).
    pub fn from_sources(
        origin: &str,
        text: &str,
        env: &BTreeMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| invalid(origin, e.message().to_owned()))?;
        for (name, value) in env {
            let Some(path) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if ENV_NOT_CONFIG.iter().any(|p| name.starts_with(p)) || !path.contains("__") {
                continue;
            }
            let keys: Vec<String> = path.split("__").map(|k| k.to_ascii_lowercase()).collect();
            set_path(&mut table, &keys, parse_env_value(value))
                .map_err(|m| invalid(format!("environment variable {name}"), m))?;
        }
        let config: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| invalid(origin, e.message().to_owned()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let l = &self.limits;
        for (key, value) in [
            ("limits.max_body_bytes", l.max_body_bytes),
            ("limits.max_depth", l.max_depth as u64),
            ("limits.max_aliases", l.max_aliases as u64),
            ("limits.subgraph_timeout_ms", l.subgraph_timeout_ms),
            ("limits.request_timeout_ms", l.request_timeout_ms),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        let c = &self.subgraphs.commerce;
        check_store(
            "subgraphs.commerce.store",
            &c.store,
            &["sqlite", "postgres", "postgresql"],
        )?;
        check_url("subgraphs.commerce.url", c.url.as_deref())?;
        let postgres_only = ["postgres", "postgresql"];
        if let Some(replica) = &c.replica {
            check_store("subgraphs.commerce.replica", replica, &postgres_only)?;
        }
        for (section, urls) in [("shards", &c.shards), ("shard_replicas", &c.shard_replicas)] {
            for (name, url) in urls {
                check_store(
                    &format!("subgraphs.commerce.{section}.{name}"),
                    url,
                    &postgres_only,
                )?;
                if url == EMBEDDED {
                    return Err(invalid(
                        format!("subgraphs.commerce.{section}.{name}"),
                        "must be a postgres:// URL",
                    ));
                }
            }
        }
        let uses_postgres_topology = c.replica.is_some() || !c.shards.is_empty();
        if uses_postgres_topology && !c.store.starts_with("postgres") {
            return Err(invalid(
                "subgraphs.commerce.store",
                "must be a postgres:// URL when replica or shards are set",
            ));
        }
        check_store(
            "subgraphs.commerce.cache",
            &c.cache,
            &["redis", "rediss", "redis-cluster", "memory", "off"],
        )?;
        if c.sweep_every_secs == 0 {
            return Err(invalid(
                "subgraphs.commerce.sweep_every_secs",
                "must be greater than 0",
            ));
        }
        let s = &self.subgraphs.session;
        check_store(
            "subgraphs.session.store",
            &s.store,
            &["redis", "redis-cluster", "memory"],
        )?;
        check_url("subgraphs.session.url", s.url.as_deref())?;
        if s.url.is_some() && (s.store == EMBEDDED || s.store == "memory") {
            return Err(invalid(
                "subgraphs.session.store",
                "must be a shared store (redis:// or redis-cluster://) when subgraphs.session.url \
                 is set: the gateway checks tokens in the same store the session service writes",
            ));
        }
        for (key, secs) in [
            ("subgraphs.session.idle_timeout_secs", s.idle_timeout_secs),
            (
                "subgraphs.session.absolute_lifetime_secs",
                s.absolute_lifetime_secs,
            ),
        ] {
            if secs == 0 {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        Ok(())
    }

    /// True when commerce runs in-process on its embedded SQLite file (where demo data goes).
    pub fn commerce_embedded(&self) -> bool {
        let c = &self.subgraphs.commerce;
        c.url.is_none() && c.store == EMBEDDED
    }

    /// True when some subgraph runs inside the gateway (no `url`), so its resolvers and store
    /// pools run on the store runtime.
    pub fn any_in_process(&self) -> bool {
        self.subgraphs.commerce.url.is_none() || self.subgraphs.session.url.is_none()
    }

    /// True when every subgraph runs in-process on its embedded store.
    pub fn all_embedded(&self) -> bool {
        let s = &self.subgraphs;
        s.commerce.url.is_none()
            && s.session.url.is_none()
            && s.commerce.store == EMBEDDED
            && s.session.store == EMBEDDED
    }
}

fn check_store(key: &str, store: &str, schemes: &[&str]) -> Result<(), ConfigError> {
    if store == EMBEDDED {
        return Ok(());
    }
    if schemes.contains(&store) {
        return Ok(()); // e.g. `memory`
    }
    let url = url::Url::parse(store)
        .map_err(|e| invalid(key, format!("`{}` is not a URL: {e}", redact(store))))?;
    if !schemes.contains(&url.scheme()) {
        return Err(invalid(
            key,
            format!(
                "scheme `{}` is not supported here; use `embedded` or one of: {}",
                url.scheme(),
                schemes.join(", ")
            ),
        ));
    }
    Ok(())
}

fn check_url(key: &str, url: Option<&str>) -> Result<(), ConfigError> {
    let Some(url) = url else { return Ok(()) };
    let parsed = url::Url::parse(url)
        .map_err(|e| invalid(key, format!("`{}` is not a URL: {e}", redact(url))))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(invalid(
            key,
            format!("`{}` must be an http(s) URL", redact(url)),
        ));
    }
    Ok(())
}

/// A URL with its password replaced, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

fn parse_env_value(value: &str) -> toml::Value {
    if let Ok(b) = value.parse::<bool>() {
        return toml::Value::Boolean(b);
    }
    if let Ok(i) = value.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    toml::Value::String(value.to_owned())
}

fn set_path(table: &mut toml::Table, keys: &[String], value: toml::Value) -> Result<(), String> {
    let (last, parents) = keys.split_last().ok_or("empty key")?;
    let mut current = table;
    for key in parents {
        let entry = current
            .entry(key.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{key}` is not a section"))?;
    }
    current.insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_sources("polygate.toml", text, &env)
    }

    #[test]
    fn no_file_and_no_environment_is_the_embedded_default() {
        let config = load("", &[]).unwrap();
        assert!(config.all_embedded());
        assert_eq!(config.server.listen.port(), 4000);
    }

    #[test]
    fn an_unknown_key_is_refused_by_name() {
        let err = load("[server]\nlisten_on = \"1.2.3.4:1\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("listen_on"), "{err}");
    }

    #[test]
    fn an_unknown_key_from_the_environment_is_refused_by_name() {
        let err = load("", &[("POLYGATE_SERVER__LISTENING", "x")]).unwrap_err();
        assert!(err.to_string().contains("listening"), "{err}");
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let config = load(
            "[subgraphs.commerce]\nstore = \"embedded\"\n",
            &[(
                "POLYGATE_SUBGRAPHS__COMMERCE__STORE",
                "postgres://u:secret@db:5432/commerce",
            )],
        )
        .unwrap();
        assert_eq!(
            config.subgraphs.commerce.store,
            "postgres://u:secret@db:5432/commerce"
        );
        assert!(!config.all_embedded());
    }

    #[test]
    fn shard_databases_come_from_the_file_or_the_environment() {
        let config = load(
            "[subgraphs.commerce]\nstore = \"postgres://db/a\"\n\
             [subgraphs.commerce.shards]\nb = \"postgres://db2/b\"\n",
            &[(
                "POLYGATE_SUBGRAPHS__COMMERCE__SHARDS__C",
                "postgres://db3/c",
            )],
        )
        .unwrap();
        let shards = &config.subgraphs.commerce.shards;
        assert_eq!(shards.keys().collect::<Vec<_>>(), ["b", "c"]);
        assert_eq!(shards["c"], "postgres://db3/c");
    }

    #[test]
    fn a_bad_shard_or_replica_url_is_refused_by_its_key() {
        let err = load(
            "[subgraphs.commerce]\nstore = \"postgres://db/a\"\n\
             [subgraphs.commerce.shards]\nb = \"redis://db2\"\n",
            &[],
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("subgraphs.commerce.shards.b"),
            "{err}"
        );
        let err = load("[subgraphs.commerce]\nreplica = \"postgres://r/a\"\n", &[]).unwrap_err();
        assert!(
            err.to_string().contains("subgraphs.commerce.store"),
            "{err}"
        );
    }

    #[test]
    fn a_malformed_store_url_names_the_key_and_hides_the_password() {
        let err = load(
            "[subgraphs.commerce]\nstore = \"mysql://u:secret@db/x\"\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("subgraphs.commerce.store"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn a_remote_session_service_needs_a_shared_store() {
        let err = load(
            "[subgraphs.session]\nurl = \"http://127.0.0.1:4002/graphql\"\n",
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("subgraphs.session.store"), "{err}");
    }

    #[test]
    fn a_zero_limit_is_refused() {
        let err = load("[limits]\nmax_depth = 0\n", &[]).unwrap_err();
        assert!(err.to_string().contains("limits.max_depth"), "{err}");
    }

    #[test]
    fn harness_variables_are_not_config() {
        load(
            "",
            &[
                ("POLYGATE_TEST_POSTGRES_URL", "postgres://x"),
                ("POLYGATE_LOG_FORMAT", "json"),
            ],
        )
        .unwrap();
    }

    #[test]
    fn the_validation_cache_is_on_by_default_and_zero_switches_it_off() {
        assert_eq!(
            load("", &[]).unwrap().subgraphs.session.validation_cache_ms,
            1_000
        );
        let off = load(
            "",
            &[("POLYGATE_SUBGRAPHS__SESSION__VALIDATION_CACHE_MS", "0")],
        )
        .unwrap();
        assert_eq!(off.subgraphs.session.validation_cache_ms, 0);
    }

    #[test]
    fn the_example_file_documents_exactly_the_defaults() {
        let text = include_str!("../../polygate.example.toml");
        let example = load(text, &[]).expect("the example parses");
        assert_eq!(format!("{example:?}"), format!("{:?}", Config::default()));
    }
}
