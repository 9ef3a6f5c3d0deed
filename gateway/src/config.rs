//! `polygate.toml`, layered: built-in defaults, then the file, then `POLYGATE_*` variables (the
//! kit's [`polygate_kit::config`] does the layering, shared with the standalone subgraphs).
//!
//! The gateway owns `[server]` and `[limits]`; each `[subgraphs.<name>]` section belongs to the
//! subgraph of that name in the [registry](crate::registry), which parses and validates it. A
//! section with no subgraph behind it, like any unknown key, is refused by name.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polygate_kit::AnySubgraph;
use polygate_kit::config::{self, SubgraphSection};
use serde::{Deserialize, Serialize};

pub use polygate_kit::config::{ConfigError, EMBEDDED, redact};

pub use crate::plugins::cache::config::CacheConfig;

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub limits: LimitsConfig,
    /// The response cache (`[cache]`, see `plugins::cache`).
    pub cache: CacheConfig,
    /// Every subgraph of the registry with its section (defaults when the file has none), in
    /// registry order.
    pub subgraphs: Vec<ConfiguredSubgraph>,
}

#[derive(Debug, Clone)]
pub struct ConfiguredSubgraph {
    pub subgraph: Arc<dyn AnySubgraph>,
    pub section: SubgraphSection,
}

impl ConfiguredSubgraph {
    pub fn name(&self) -> &'static str {
        self.subgraph.name()
    }

    /// True when the subgraph runs inside the gateway (no `url`).
    pub fn in_process(&self) -> bool {
        self.section.url.is_none()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address the gateway listens on.
    pub listen: SocketAddr,
    /// The composed supergraph to serve; unset = the one this binary was built with.
    pub supergraph: Option<PathBuf>,
    /// Where embedded stores keep their files, relative to the working directory.
    pub data_dir: PathBuf,
    /// Serve GraphiQL at `/`.
    pub graphiql: bool,
    /// Answer introspection queries.
    pub introspection: bool,
    /// Seed demo data on start into every subgraph whose store is embedded.
    pub seed_demo_data: bool,
    /// ntex worker threads; 0 means one per core.
    pub workers: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// After the session store answers for a client address, this gateway meters that
    /// address from a local copy of its bucket for this long and bills the store late
    /// (`admission::client_meter`); 0 asks the store on every anonymous request.
    pub client_meter_ms: u64,
    /// Sustained GraphQL requests per second per signed-in session; 0 switches the limit off.
    pub session_requests_per_sec: u32,
    /// Requests a session may send at once before the sustained rate applies.
    pub session_burst: u32,
}

/// The gateway's own sections, as the file holds them (subgraph sections stay raw until their
/// subgraph parses them).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
#[derive(Default)]
struct GatewaySections {
    server: ServerConfig,
    limits: LimitsConfig,
    cache: CacheConfig,
    subgraphs: toml::Table,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 4000)),
            supergraph: None,
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
            client_meter_ms: 1_000,
            session_requests_per_sec: 20,
            session_burst: 60,
        }
    }
}

impl Config {
    /// Loads `path` (if it exists, or must exist when `required`) and the process environment.
    pub fn load(
        path: &Path,
        required: bool,
        registry: &[Arc<dyn AnySubgraph>],
    ) -> Result<Config, ConfigError> {
        let text = config::read_file(path, required)?;
        let env = std::env::vars().collect();
        Self::from_sources(&path.display().to_string(), &text, &env, registry)
    }

    /// The configuration with no file and no environment: everything embedded.
    pub fn embedded(registry: &[Arc<dyn AnySubgraph>]) -> Config {
        Self::from_sources("defaults", "", &Default::default(), registry)
            .expect("the defaults are valid")
    }

    /// Builds the config from a file's text and an environment (pure, for tests).
    pub fn from_sources(
        origin: &str,
        text: &str,
        env: &std::collections::BTreeMap<String, String>,
        registry: &[Arc<dyn AnySubgraph>],
    ) -> Result<Config, ConfigError> {
        let table = config::layered(origin, text, env, &known_keys(registry))?;
        let sections: GatewaySections = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| config::invalid(origin, e.message().to_owned()))?;
        let mut raw = sections.subgraphs;
        let mut subgraphs = Vec::with_capacity(registry.len());
        for subgraph in registry {
            let table = match raw.remove(subgraph.name()) {
                None => toml::Table::new(),
                Some(toml::Value::Table(table)) => table,
                Some(_) => {
                    return Err(config::invalid(
                        format!("subgraphs.{}", subgraph.name()),
                        "must be a section",
                    ));
                }
            };
            subgraphs.push(ConfiguredSubgraph {
                subgraph: subgraph.clone(),
                section: SubgraphSection::parse(subgraph.as_ref(), table)?,
            });
        }
        if let Some(unknown) = raw.keys().next() {
            let names: Vec<&str> = registry.iter().map(|s| s.name()).collect();
            return Err(config::invalid(
                format!("subgraphs.{unknown}"),
                format!(
                    "no such subgraph in this gateway; it has: {}",
                    names.join(", ")
                ),
            ));
        }
        let config = Config {
            server: sections.server,
            limits: sections.limits,
            cache: sections.cache,
            subgraphs,
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let redis_url = self.cache.redis_url.trim();
        if !redis_url.is_empty()
            && !url::Url::parse(redis_url)
                .is_ok_and(|u| matches!(u.scheme(), "redis" | "rediss" | "redis+unix"))
        {
            return Err(config::invalid(
                "cache.redis_url",
                "must be a redis:// or rediss:// URL",
            ));
        }
        let l = &self.limits;
        for (key, value) in [
            ("limits.max_body_bytes", l.max_body_bytes),
            ("limits.max_depth", l.max_depth as u64),
            ("limits.max_aliases", l.max_aliases as u64),
            ("limits.subgraph_timeout_ms", l.subgraph_timeout_ms),
            ("limits.request_timeout_ms", l.request_timeout_ms),
        ] {
            if value == 0 {
                return Err(config::invalid(key, "must be greater than 0"));
            }
        }
        Ok(())
    }

    /// The subgraph named `name`, if the registry has it.
    pub fn subgraph(&self, name: &str) -> Option<&ConfiguredSubgraph> {
        self.subgraphs.iter().find(|s| s.name() == name)
    }

    /// True when some subgraph runs inside the gateway (no `url`), so its resolvers and store
    /// pools run on the store runtime.
    pub fn any_in_process(&self) -> bool {
        self.subgraphs.iter().any(ConfiguredSubgraph::in_process)
    }

    /// True when every subgraph runs in-process on its embedded store.
    pub fn all_embedded(&self) -> bool {
        self.subgraphs
            .iter()
            .all(|s| s.in_process() && s.section.settings.embedded())
    }
}

/// Every key path the file may hold, for "did you mean" hints.
fn known_keys(registry: &[Arc<dyn AnySubgraph>]) -> Vec<String> {
    let mut keys = config::key_paths("server", &ServerConfig::default());
    keys.extend(config::key_paths("limits", &LimitsConfig::default()));
    keys.extend(config::key_paths("cache", &CacheConfig::default()));
    for subgraph in registry {
        keys.extend(polygate_kit::standalone::section_keys(subgraph.as_ref()));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_sources("polygate.toml", text, &env, &crate::registry::subgraphs())
    }

    #[test]
    fn no_file_and_no_environment_is_the_embedded_default() {
        let config = load("", &[]).unwrap();
        assert!(config.all_embedded());
        assert_eq!(config.server.listen.port(), 4000);
        assert_eq!(config.server.supergraph, None);
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
    fn a_variable_that_names_no_key_is_refused_with_the_nearest_valid_name() {
        let err = load("", &[("POLYGATE_LISTEN", "0.0.0.0:4000")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("POLYGATE_LISTEN"), "{err}");
        assert!(err.contains("POLYGATE_SERVER__LISTEN"), "{err}");
    }

    #[test]
    fn an_unknown_subgraph_section_is_refused_naming_the_known_ones() {
        let err = load("[subgraphs.inventory]\nstore = \"embedded\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("subgraphs.inventory"), "{err}");
        assert!(err.contains("commerce") && err.contains("session"), "{err}");
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
        let commerce = config.subgraph("commerce").unwrap();
        assert!(!commerce.section.settings.embedded());
        assert!(!config.all_embedded());
    }

    #[test]
    fn a_subgraph_url_puts_it_out_of_process() {
        let config = load(
            "[subgraphs.commerce]\nurl = \"http://10.0.0.11:4001/graphql\"\n",
            &[],
        )
        .unwrap();
        assert!(!config.subgraph("commerce").unwrap().in_process());
        assert!(config.subgraph("session").unwrap().in_process());
        assert!(config.any_in_process());
    }

    #[test]
    fn a_bad_subgraph_key_is_refused_by_its_full_path() {
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
        let err = load("[subgraphs.commerce]\nsweep_every = 3\n", &[]).unwrap_err();
        assert!(err.to_string().contains("subgraphs.commerce"), "{err}");
        assert!(err.to_string().contains("sweep_every"), "{err}");
    }

    #[test]
    fn a_malformed_subgraph_url_is_refused_by_its_key() {
        let err = load("[subgraphs.session]\nurl = \"not a url\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("subgraphs.session.url"), "{err}");
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

    /// The registry of the gateway-only build (`--no-default-features --features session`),
    /// in a build that links everything.
    fn gateway_only() -> Vec<Arc<dyn AnySubgraph>> {
        crate::registry::subgraphs()
            .into_iter()
            .map(|s| match s.name() {
                "session" => s,
                name => polygate_kit::subgraph::not_linked(name, name),
            })
            .collect()
    }

    const REMOTE_ELSEWHERE: [(&str, &str); 5] = [
        (
            "POLYGATE_SUBGRAPHS__COMMERCE__URL",
            "http://10.0.0.11:4001/graphql",
        ),
        (
            "POLYGATE_SUBGRAPHS__ORG__URL",
            "http://10.0.0.12:4005/graphql",
        ),
        (
            "POLYGATE_SUBGRAPHS__TELEMETRY__URL",
            "http://10.0.0.13:4003/graphql",
        ),
        (
            "POLYGATE_SUBGRAPHS__CATALOG__URL",
            "http://10.0.0.14:4004/graphql",
        ),
        (
            "POLYGATE_SUBGRAPHS__SEARCH__URL",
            "http://10.0.0.15:4006/graphql",
        ),
    ];

    fn load_gateway_only(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env = REMOTE_ELSEWHERE
            .iter()
            .chain(env)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_sources("polygate.toml", text, &env, &gateway_only())
    }

    #[test]
    fn a_subgraph_this_build_does_not_link_runs_at_its_url() {
        let config = load_gateway_only("", &[]).unwrap();
        let search = config.subgraph("search").unwrap();
        assert!(!search.in_process());
        assert!(!search.section.settings.embedded());
        assert!(config.subgraph("session").unwrap().in_process());
        let listen = load_gateway_only("[subgraphs.org]\nlisten = \"0.0.0.0:4003\"\n", &[]);
        assert!(listen.is_ok(), "{listen:?}");
    }

    #[test]
    fn a_store_key_for_a_subgraph_this_build_does_not_link_is_refused_naming_its_feature() {
        for (text, env) in [
            ("[subgraphs.catalog]\nstore = \"embedded\"\n", vec![]),
            ("", vec![("POLYGATE_SUBGRAPHS__CATALOG__STORE", "embedded")]),
        ] {
            let err = load_gateway_only(text, &env).unwrap_err().to_string();
            assert!(err.contains("subgraphs.catalog.store"), "{err}");
            assert!(
                err.contains("this build does not include the catalog subgraph")
                    && err.contains("cargo feature `catalog`"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_subgraph_this_build_does_not_link_needs_a_url_named_with_its_feature() {
        let env: std::collections::BTreeMap<String, String> = REMOTE_ELSEWHERE
            .iter()
            .filter(|(k, _)| !k.contains("__ORG__"))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let err = Config::from_sources("polygate.toml", "", &env, &gateway_only())
            .unwrap_err()
            .to_string();
        assert!(err.contains("subgraphs.org.url"), "{err}");
        assert!(err.contains("POLYGATE_SUBGRAPHS__ORG__URL"), "{err}");
        assert!(err.contains("cargo feature `org`"), "{err}");
    }

    #[test]
    fn a_zero_limit_is_refused() {
        let err = load("[limits]\nmax_depth = 0\n", &[]).unwrap_err();
        assert!(err.to_string().contains("limits.max_depth"), "{err}");
    }

    #[test]
    fn the_client_meter_is_on_for_a_second_by_default_and_set_from_file_or_environment() {
        assert_eq!(load("", &[]).unwrap().limits.client_meter_ms, 1_000);
        let off = load("[limits]\nclient_meter_ms = 0\n", &[]).unwrap();
        assert_eq!(off.limits.client_meter_ms, 0);
        let env = load("", &[("POLYGATE_LIMITS__CLIENT_METER_MS", "250")]).unwrap();
        assert_eq!(env.limits.client_meter_ms, 250);
        let typo = load("[limits]\nclient_meter = 5\n", &[]).unwrap_err();
        assert!(typo.to_string().contains("client_meter"), "{typo}");
    }

    #[test]
    fn harness_and_logging_variables_are_not_config() {
        load(
            "",
            &[
                ("POLYGATE_TEST_POSTGRES_URL", "postgres://x"),
                ("POLYGATE_LOG_FORMAT", "json"),
                ("POLYGATE_CONFIG", "polygate.toml"),
            ],
        )
        .unwrap();
    }

    #[test]
    fn the_cache_is_off_by_default_and_takes_type_policies_from_file_and_environment() {
        use crate::plugins::cache::config::{Scope, TypePolicy};
        assert!(!load("", &[]).unwrap().cache.enabled);
        let config = load(
            "[cache]\nenabled = true\n[cache.types.Product]\nmax_age_secs = 30\n\
             [cache.mutations]\nplaceOrder = [\"Product\"]\n",
            &[
                ("POLYGATE_CACHE__TYPES__USER__MAX_AGE_SECS", "10"),
                ("POLYGATE_CACHE__TYPES__USER__SCOPE", "private"),
            ],
        )
        .unwrap();
        assert!(config.cache.enabled);
        assert_eq!(
            config.cache.types["Product"],
            TypePolicy {
                max_age_secs: 30,
                scope: Scope::Public
            }
        );
        assert_eq!(
            config.cache.types["user"],
            TypePolicy {
                max_age_secs: 10,
                scope: Scope::Private
            }
        );
        assert_eq!(config.cache.mutations["placeOrder"], ["Product"]);
        let unknown = load("[cache]\nttl = 3\n", &[]).unwrap_err();
        assert!(unknown.to_string().contains("ttl"), "{unknown}");
    }

    #[test]
    fn the_example_file_documents_exactly_the_defaults_of_every_subgraph() {
        let text = include_str!("../../polygate.example.toml");
        let example = load(text, &[]).expect("the example parses");
        let defaults = Config::embedded(&crate::registry::subgraphs());
        assert_eq!(
            format!(
                "{:?}{:?}{:?}",
                example.server, example.limits, example.cache
            ),
            format!(
                "{:?}{:?}{:?}",
                defaults.server, defaults.limits, defaults.cache
            )
        );
        for (documented, default) in example.subgraphs.iter().zip(&defaults.subgraphs) {
            let name = documented.name();
            assert!(
                text.contains(&format!("[subgraphs.{name}]")),
                "polygate.example.toml has no [subgraphs.{name}] section"
            );
            assert_eq!(
                format!("{:?}", documented.section),
                format!("{:?}", default.section),
                "[subgraphs.{name}] in polygate.example.toml"
            );
        }
    }
}
