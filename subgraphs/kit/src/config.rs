//! `polygate.toml` layering shared by the gateway and every standalone subgraph: the file, then
//! `POLYGATE_*` environment variables on top.
//!
//! A variable names a key path with double underscores (`POLYGATE_SERVER__LISTEN`,
//! `POLYGATE_SUBGRAPHS__COMMERCE__STORE`), so every key in the file can be overridden without a
//! second list to keep in sync. Non-obvious: a `POLYGATE_` variable that names no key path at all
//! (`POLYGATE_LISTEN`) would otherwise be silently ignored, so it is refused with the nearest
//! valid name; only the variables in [`ENV_NOT_CONFIG`] are exempt.

use std::collections::BTreeMap;

use crate::subgraph::{AnySubgraph, ParsedSettings, SettingsError};

pub const ENV_PREFIX: &str = "POLYGATE_";

/// `POLYGATE_` variables that are not config keys (a trailing `_` matches a family): the config
/// file's path, logging, the test suite's, the test servers' (`e2e/servers/`) and benchmarks'
/// own, commerce's crash-point failpoint for the crash tests, and the build-time GraphiQL
/// assets folder.
pub const ENV_NOT_CONFIG: [&str; 7] = [
    "POLYGATE_CONFIG",
    "POLYGATE_LOG_FORMAT",
    "POLYGATE_TEST_",
    "POLYGATE_BENCH_",
    "POLYGATE_SERVERS_",
    "POLYGATE_CRASH_AT",
    "POLYGATE_GRAPHIQL_ASSETS",
];

/// The `store` value that means "the embedded store under `server.data_dir`".
pub const EMBEDDED: &str = "embedded";

/// Checks a store setting: [`EMBEDDED`], one of the bare words in `schemes` (e.g. `memory`), or a
/// URL with one of their schemes. The message hides any password.
pub fn check_store(store: &str, schemes: &[&str]) -> Result<(), String> {
    if store == EMBEDDED || schemes.contains(&store) {
        return Ok(());
    }
    // A list of seed nodes (`redis-cluster://h1:p1,h2:p2`) is not one URL: its scheme decides.
    if let Some((scheme, rest)) = store.split_once("://")
        && rest.contains(',')
    {
        return match schemes.contains(&scheme) {
            true => Ok(()),
            false => Err(format!(
                "scheme `{scheme}` is not supported here; use `{EMBEDDED}` or one of: {}",
                schemes.join(", ")
            )),
        };
    }
    let url =
        url::Url::parse(store).map_err(|e| format!("`{}` is not a URL: {e}", redact(store)))?;
    if !schemes.contains(&url.scheme()) {
        return Err(format!(
            "scheme `{}` is not supported here; use `{EMBEDDED}` or one of: {}",
            url.scheme(),
            schemes.join(", ")
        ));
    }
    Ok(())
}

/// The keys every `[subgraphs.<name>]` section has besides the subgraph's own.
pub const URL_KEY: &str = "url";
pub const LISTEN_KEY: &str = "listen";

/// A config problem, named by where it was found.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
}

pub fn invalid(origin: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        origin: origin.into(),
        message: message.into(),
    }
}

/// Reads `path`; a missing file is an empty one unless `required`.
pub fn read_file(path: &std::path::Path, required: bool) -> Result<String, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(String::new()),
        Err(source) => Err(ConfigError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// The file's table with every `POLYGATE_*` variable of `env` applied on top.
///
/// `known_keys` are the valid dotted key paths (`server.listen`, …): a variable without a key
/// path is refused with the nearest of them.
pub fn layered(
    origin: &str,
    text: &str,
    env: &BTreeMap<String, String>,
    known_keys: &[String],
) -> Result<toml::Table, ConfigError> {
    let mut table: toml::Table =
        toml::from_str(text).map_err(|e| invalid(origin, e.message().to_owned()))?;
    for (name, value) in env {
        let Some(path) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if ENV_NOT_CONFIG.iter().any(|exempt| {
            if exempt.ends_with('_') {
                name.starts_with(exempt)
            } else {
                name == exempt
            }
        }) {
            continue;
        }
        let origin = format!("environment variable {name}");
        if !path.contains("__") {
            let hint = nearest(name, known_keys.iter().map(|k| env_name(k)))
                .map(|n| format!("; did you mean {n}?"))
                .unwrap_or_default();
            return Err(invalid(origin, format!("names no configuration key{hint}")));
        }
        let keys: Vec<String> = path.split("__").map(|k| k.to_ascii_lowercase()).collect();
        set_path(&mut table, &keys, parse_env_value(value)).map_err(|m| invalid(origin, m))?;
    }
    Ok(table)
}

/// The variable that overrides a dotted key path: `server.listen` → `POLYGATE_SERVER__LISTEN`.
pub fn env_name(key_path: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        key_path.replace('.', "__").to_ascii_uppercase()
    )
}

/// Every dotted key path of `value` serialised (options included: JSON keeps `null`s), under
/// `prefix`.
pub fn key_paths(prefix: &str, value: &impl serde::Serialize) -> Vec<String> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(fields) if !fields.is_empty() => {
                for (key, field) in fields {
                    walk(&format!("{prefix}.{key}"), field, out);
                }
            }
            _ => out.push(prefix.to_owned()),
        }
    }
    let mut out = Vec::new();
    if let Ok(value) = serde_json::to_value(value) {
        walk(prefix, &value, &mut out);
    }
    out.sort();
    out
}

/// The candidate `name` most likely meant: one whose last key is all of `name`'s path (the
/// shortest such, `POLYGATE_LISTEN` → `POLYGATE_SERVER__LISTEN`), else the closest by edit
/// distance if it is reasonably close.
pub fn nearest(name: &str, candidates: impl IntoIterator<Item = String>) -> Option<String> {
    let candidates: Vec<String> = candidates.into_iter().collect();
    let path = name.strip_prefix(ENV_PREFIX).unwrap_or(name);
    let same_leaf = candidates
        .iter()
        .filter(|c| c.ends_with(&format!("__{path}")))
        .min_by_key(|c| c.len());
    if let Some(found) = same_leaf {
        return Some(found.clone());
    }
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, &c), c))
        .min_by_key(|(d, _)| *d)
        .filter(|(d, c)| *d <= c.len().max(name.len()) / 2)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
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

/// One `[subgraphs.<name>]` section, parsed: where the process finds or serves the subgraph, and
/// the subgraph's own settings.
#[derive(Debug, Clone)]
pub struct SubgraphSection {
    /// Set: the gateway calls the subgraph over HTTP here instead of in-process.
    pub url: Option<String>,
    /// Where `polygate-<name> serve` binds (default `127.0.0.1:<default port>`).
    pub listen: std::net::SocketAddr,
    pub settings: ParsedSettings,
}

impl SubgraphSection {
    /// Parses `table` (the section, possibly empty) for `subgraph`; errors name
    /// `subgraphs.<name>.<key>`.
    pub fn parse(
        subgraph: &dyn AnySubgraph,
        mut table: toml::Table,
    ) -> Result<SubgraphSection, ConfigError> {
        let key = |k: &str| {
            if k.is_empty() {
                format!("subgraphs.{}", subgraph.name())
            } else {
                format!("subgraphs.{}.{k}", subgraph.name())
            }
        };
        let url = match table.remove(URL_KEY) {
            None => None,
            Some(toml::Value::String(url)) => {
                check_http_url(&url).map_err(|m| invalid(key(URL_KEY), m))?;
                Some(url)
            }
            Some(other) => {
                return Err(invalid(
                    key(URL_KEY),
                    format!("expected a string, got {other}"),
                ));
            }
        };
        let listen = match table.remove(LISTEN_KEY) {
            None => std::net::SocketAddr::from(([127, 0, 0, 1], subgraph.default_port())),
            Some(toml::Value::String(addr)) => addr
                .parse()
                .map_err(|e| invalid(key(LISTEN_KEY), format!("`{addr}` is not HOST:PORT: {e}")))?,
            Some(other) => {
                return Err(invalid(
                    key(LISTEN_KEY),
                    format!("expected \"HOST:PORT\", got {other}"),
                ));
            }
        };
        let settings = subgraph
            .parse(table, url.is_some())
            .map_err(|SettingsError { key: k, message }| invalid(key(&k), message))?;
        Ok(SubgraphSection {
            url,
            listen,
            settings,
        })
    }
}

fn check_http_url(url: &str) -> Result<(), String> {
    let parsed =
        url::Url::parse(url).map_err(|e| format!("`{}` is not a URL: {e}", redact(url)))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(format!("`{}` must be an http(s) URL", redact(url)));
    }
    Ok(())
}

/// A URL with its password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_variable_overrides_the_file_by_key_path() {
        let table = layered(
            "f",
            "[server]\nlisten = \"a\"\n",
            &env(&[
                ("POLYGATE_SERVER__LISTEN", "b"),
                ("POLYGATE_SERVER__WORKERS", "4"),
            ]),
            &[],
        )
        .unwrap();
        assert_eq!(table["server"]["listen"].as_str(), Some("b"));
        assert_eq!(table["server"]["workers"].as_integer(), Some(4));
    }

    #[test]
    fn a_variable_without_a_key_path_is_refused_with_the_nearest_name() {
        let known = vec!["server.listen".to_owned(), "server.workers".to_owned()];
        let err = layered("f", "", &env(&[("POLYGATE_LISTEN", "x")]), &known)
            .unwrap_err()
            .to_string();
        assert!(err.contains("POLYGATE_LISTEN"), "{err}");
        assert!(
            err.contains("did you mean POLYGATE_SERVER__LISTEN?"),
            "{err}"
        );
    }

    #[test]
    fn exempt_variables_and_other_prefixes_are_not_config() {
        let table = layered(
            "f",
            "",
            &env(&[
                ("POLYGATE_CONFIG", "x.toml"),
                ("POLYGATE_TEST_REDIS_URL", "redis://x"),
                ("POLYGATE_LOG_FORMAT", "json"),
                ("PATH", "/bin"),
            ]),
            &[],
        )
        .unwrap();
        assert!(table.is_empty());
    }

    #[test]
    fn key_paths_include_optional_and_nested_keys() {
        #[derive(serde::Serialize)]
        struct S {
            store: String,
            replica: Option<String>,
            inner: Inner,
        }
        #[derive(serde::Serialize)]
        struct Inner {
            depth: u32,
        }
        let keys = key_paths(
            "subgraphs.x",
            &S {
                store: "embedded".into(),
                replica: None,
                inner: Inner { depth: 1 },
            },
        );
        assert_eq!(
            keys,
            [
                "subgraphs.x.inner.depth",
                "subgraphs.x.replica",
                "subgraphs.x.store"
            ]
        );
    }

    #[test]
    fn a_store_is_embedded_a_bare_word_or_a_url_of_an_allowed_scheme() {
        let schemes = ["redis", "redis-cluster", "memory"];
        check_store("embedded", &schemes).unwrap();
        check_store("memory", &schemes).unwrap();
        check_store("redis://u:secret@cache:6379", &schemes).unwrap();
        check_store("redis-cluster://a:7000,b:7001,c:7002", &schemes).unwrap();
        let err = check_store("mysql://u:secret@db/x", &schemes).unwrap_err();
        assert!(err.contains("mysql") && !err.contains("secret"), "{err}");
        let err = check_store("postgres://a:1,b:2", &schemes).unwrap_err();
        assert!(err.contains("postgres"), "{err}");
    }

    #[test]
    fn nothing_is_suggested_for_a_name_unlike_every_key() {
        assert_eq!(
            nearest(
                "POLYGATE_ZZZZZZZZZZZZZZZZZZZZ",
                ["POLYGATE_A__B".to_owned()]
            ),
            None
        );
    }
}
