//! The registry is the gateway's only seam: a subgraph defined in this file, and nowhere in the
//! gateway's code, is configured by its own `[subgraphs.greetings]` section, exports its SDL,
//! composes, is served in-process and answers `/ready`.
//!
//! One gateway per process (Hive Router's state is global), so this file holds one serving test.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
use async_trait::async_trait;
use polygate::config::Config;
use polygate::serve::{ServeOptions, run};
use polygate_kit::subgraph::entry;
use polygate_kit::{
    AnySubgraph, OpenContext, Opened, Probe, SettingsError, Subgraph, SubgraphSchema,
};
use serde::{Deserialize, Serialize};

/// A subgraph that greets, with its greeting from its section.
struct Greetings;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct GreetingSettings {
    greeting: String,
}

impl Default for GreetingSettings {
    fn default() -> Self {
        Self {
            greeting: "hello".to_owned(),
        }
    }
}

struct Query {
    greeting: String,
}

#[Object]
impl Query {
    async fn greeting(&self) -> &str {
        &self.greeting
    }
}

fn schema(greeting: &str) -> Schema<Query, EmptyMutation, EmptySubscription> {
    Schema::build(
        Query {
            greeting: greeting.to_owned(),
        },
        EmptyMutation,
        EmptySubscription,
    )
    .enable_federation()
    .finish()
}

struct AlwaysReady;

#[async_trait]
impl Probe for AlwaysReady {
    fn name(&self) -> String {
        "greetings/memory".to_owned()
    }

    async fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

#[async_trait(?Send)]
impl Subgraph for Greetings {
    type Settings = GreetingSettings;
    const NAME: &'static str = "greetings";
    const DEFAULT_PORT: u16 = 4099;

    fn sdl() -> String {
        schema("").sdl_with_options(polygate_kit::sdl_options())
    }

    fn validate(settings: &GreetingSettings, _remote: bool) -> Result<(), SettingsError> {
        if settings.greeting.is_empty() {
            return Err(SettingsError::new("greeting", "must not be empty"));
        }
        Ok(())
    }

    fn embedded(_: &GreetingSettings) -> bool {
        true
    }

    async fn open(settings: &GreetingSettings, _ctx: OpenContext) -> anyhow::Result<Opened> {
        Ok(Opened {
            schema: Some(Arc::new(schema(&settings.greeting)) as Arc<dyn SubgraphSchema>),
            probes: vec![Arc::new(AlwaysReady)],
            tasks: Vec::new(),
            seed: None,
        })
    }
}

fn registry() -> Vec<Arc<dyn AnySubgraph>> {
    vec![entry::<Greetings>()]
}

fn configure(text: &str, env: &[(&str, String)]) -> Result<Config, polygate::config::ConfigError> {
    let env: BTreeMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Config::from_sources("test", text, &env, &registry())
}

#[test]
fn its_section_is_parsed_and_validated_by_the_subgraph() {
    let err = configure("[subgraphs.greetings]\ngreeting = \"\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("subgraphs.greetings.greeting"), "{err}");
    let err = configure("[subgraphs.greetings]\ncolour = \"red\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("subgraphs.greetings") && err.contains("colour"),
        "{err}"
    );
    let err = configure("[subgraphs.commerce]\nstore = \"embedded\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("it has: greetings"), "{err}");
}

#[tokio::test]
async fn a_subgraph_defined_here_is_served_in_process_from_its_own_section() {
    let dir = std::env::temp_dir().join(polygate_kit::testing::unique_name("greetings"));
    let exported = polygate::schema_files::export(&dir, &registry()).unwrap();
    let sdl = std::fs::read_to_string(&exported[0]).unwrap();
    assert!(sdl.contains("greeting: String!"), "{sdl}");
    let Some(supergraph) = compose(&dir) else {
        return;
    };

    let port = free_port();
    let config = configure(
        "",
        &[
            ("POLYGATE_SERVER__LISTEN", format!("127.0.0.1:{port}")),
            ("POLYGATE_SERVER__DATA_DIR", dir.display().to_string()),
            (
                "POLYGATE_SUBGRAPHS__GREETINGS__GREETING",
                "hello from its section".to_owned(),
            ),
        ],
    )
    .unwrap();
    std::thread::spawn(move || {
        let served = run(ServeOptions {
            config,
            supergraph: Some(supergraph),
        });
        panic!("the gateway stopped: {served:?}");
    });

    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut ready = None;
    for _ in 0..300 {
        if let Ok(response) = client.get(format!("{base}/ready")).send().await {
            ready = Some(response.status());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ready, Some(reqwest::StatusCode::OK), "/ready");

    let response: serde_json::Value = client
        .post(format!("{base}/graphql"))
        .json(&serde_json::json!({ "query": "{ greeting }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        response,
        serde_json::json!({ "data": { "greeting": "hello from its section" } })
    );
    // Nothing listens at the URL the supergraph names (port 4099 is the subgraph's default,
    // unused here), so the answer came from the in-process executor, whose calls are counted.
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let in_process_calls = metrics
        .lines()
        .find(|line| {
            line.starts_with("polygate_subgraph_call_seconds_count{")
                && line.contains("subgraph=\"greetings\"")
                && line.contains("transport=\"in-process\"")
        })
        .and_then(|line| line.rsplit(' ').next());
    assert_eq!(in_process_calls, Some("1"), "{metrics}");
}

/// Composes `dir`'s exported SDL with the project's composition tool (`schema/compose --dir`).
fn compose(dir: &Path) -> Option<std::path::PathBuf> {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema");
    if !schema.join("node_modules").exists() {
        let why = "schema/node_modules is missing: run `npm ci` in schema/ (e2e/run-tests does)";
        if std::env::var_os(polygate_kit::testing::REQUIRE_SERVERS_VAR).is_some() {
            panic!("{why}");
        }
        polygate_kit::testing::skip(why);
        return None;
    }
    std::fs::write(
        dir.join("subgraphs.json"),
        r#"{ "greetings": "http://127.0.0.1:4099/graphql" }"#,
    )
    .unwrap();
    let status = std::process::Command::new("node")
        .arg(schema.join("compose"))
        .arg("--dir")
        .arg(dir)
        .status()
        .expect("node runs");
    assert!(status.success(), "composition failed");
    Some(dir.join("supergraph.graphql"))
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
    listener.local_addr().unwrap().port()
}
