//! The deployable gateway-only build (`cargo build -p polygate --no-default-features --features
//! session`): it links no subgraph but session, calls every other subgraph at its `url`, and
//! refuses a config that would need a subgraph it does not link.
//!
//! `e2e/run-tests` builds that binary next to the full one and names it in
//! `POLYGATE_TEST_GATEWAY_ONLY_BIN`; without the variable these tests skip (and fail under the
//! test command, which must set it).

use polygate_e2e::gateway::{login_token, subgraph_service, temp_data_dir};
use polygate_e2e::graphql::Client;
use polygate_e2e::{Service, free_port, run_to_exit};
use serde_json::{Value, json};

const BINARY_VAR: &str = "POLYGATE_TEST_GATEWAY_ONLY_BIN";

/// The gateway-only binary, or `None` after saying why the test skips.
fn gateway_only_binary() -> Option<String> {
    match std::env::var(BINARY_VAR) {
        Ok(path) if !path.trim().is_empty() => Some(path),
        _ if std::env::var_os(polygate_kit::testing::REQUIRE_SERVERS_VAR).is_some()
            || std::env::var_os("CI").is_some() =>
        {
            panic!("{BINARY_VAR} is not set: the test command must build the gateway-only binary")
        }
        _ => {
            polygate_kit::testing::skip(&format!(
                "{BINARY_VAR} is not set; `e2e/run-tests` builds the gateway-only binary and sets it"
            ));
            None
        }
    }
}

/// `POLYGATE_SUBGRAPHS__<NAME>__URL` for every subgraph the gateway-only build does not link
/// and this test does not start: addresses where nothing listens.
fn nothing_listens_for(names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .map(|name| {
            (
                format!("POLYGATE_SUBGRAPHS__{}__URL", name.to_ascii_uppercase()),
                format!("http://127.0.0.1:{}/graphql", free_port()),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_gateway_only_build_answers_a_federated_query_from_subgraph_services() {
    let Some(binary) = gateway_only_binary() else {
        return;
    };
    let Some(redis) = polygate_kit::testing::server_url("POLYGATE_TEST_REDIS_URL") else {
        return;
    };
    let data = temp_data_dir("gateway-only");
    let session = subgraph_service(
        "polygate-session",
        &[("POLYGATE_SUBGRAPHS__SESSION__STORE", redis.clone())],
    )
    .await
    .unwrap();
    let commerce = subgraph_service(
        "polygate-commerce",
        &[
            (
                "POLYGATE_SUBGRAPHS__COMMERCE__STORE",
                format!("sqlite://{}", data.join("commerce.db").display()),
            ),
            ("POLYGATE_SUBGRAPHS__SESSION__URL", session.url("/graphql")),
        ],
    )
    .await
    .unwrap();
    let down = nothing_listens_for(&["org", "telemetry", "catalog", "search"]);
    let port = free_port();
    let mut env = vec![
        ("POLYGATE_SERVER__LISTEN", format!("127.0.0.1:{port}")),
        ("POLYGATE_SERVER__DATA_DIR", data.display().to_string()),
        (
            "POLYGATE_SUBGRAPHS__COMMERCE__URL",
            commerce.url("/graphql"),
        ),
        ("POLYGATE_SUBGRAPHS__SESSION__URL", session.url("/graphql")),
        // The gateway checks bearer tokens in the session store the service writes.
        ("POLYGATE_SUBGRAPHS__SESSION__STORE", redis.clone()),
        ("POLYGATE_LIMITS__SUBGRAPH_TIMEOUT_MS", "2000".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    env.extend(down.iter().map(|(k, v)| (k.as_str(), v.clone())));
    let gateway = Service::start(&binary, &["serve"], &env, port, "/readiness")
        .await
        .unwrap();

    let client = Client::new(gateway.url("/graphql"));
    let email = format!(
        "{}@example.com",
        polygate_kit::testing::unique_name("gw-only")
    );
    let registered = client
        .query(
            "mutation($i: RegisterInput!) { register(input: $i) { id } }",
            json!({ "i": { "email": email, "password": "correct horse", "name": "Gale" } }),
        )
        .await;
    assert_eq!(registered["errors"], Value::Null, "{registered}");
    let me_client = client.with_token(&login_token(&client, &email, "correct horse").await);
    let me = me_client
        .query("{ me { email sessions { current } } }", json!({}))
        .await;
    assert_eq!(me["errors"], Value::Null, "{me}");
    assert_eq!(me["data"]["me"]["email"], json!(email));
    assert_eq!(me["data"]["me"]["sessions"], json!([{ "current": true }]));

    let ready = reqwest::get(gateway.url("/ready")).await.unwrap();
    assert_eq!(ready.status(), 503);
    let body = ready.text().await.unwrap();
    for name in ["org", "telemetry", "catalog", "search"] {
        assert!(body.contains(&format!("{name} (remote)")), "{body}");
    }
    for name in ["commerce", "session"] {
        assert!(!body.contains(&format!("{name} (remote)")), "{body}");
    }
}

/// Runs the gateway-only `polygate serve` with a URL for every subgraph it does not link but
/// `without_url`, plus `env`, and returns its error output; panics when it starts.
fn refused(binary: &str, env: &[(&str, &str)], without_url: Option<&str>) -> String {
    let data = temp_data_dir("gateway-only-cfg");
    let remote: Vec<&str> = ["commerce", "org", "telemetry", "catalog", "search"]
        .into_iter()
        .filter(|name| Some(*name) != without_url)
        .collect();
    let mut all = nothing_listens_for(&remote);
    all.push((
        "POLYGATE_SERVER__DATA_DIR".to_owned(),
        data.display().to_string(),
    ));
    all.push((
        "POLYGATE_SERVER__LISTEN".to_owned(),
        "127.0.0.1:0".to_owned(),
    ));
    all.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let all: Vec<(&str, String)> = all.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let (ok, stderr) = run_to_exit(binary, &["serve"], &all);
    assert!(!ok, "serve should refuse to start: {stderr}");
    stderr
}

#[test]
fn the_gateway_only_build_refuses_a_store_or_a_missing_url_for_a_subgraph_it_does_not_link() {
    let Some(binary) = gateway_only_binary() else {
        return;
    };
    let store = refused(
        &binary,
        &[("POLYGATE_SUBGRAPHS__CATALOG__STORE", "embedded")],
        None,
    );
    for needle in [
        "subgraphs.catalog.store",
        "this build does not include the catalog subgraph",
        "cargo feature `catalog`",
    ] {
        assert!(store.contains(needle), "expected `{needle}` in: {store}");
    }

    let no_url = refused(&binary, &[], Some("org"));
    for needle in [
        "subgraphs.org.url",
        "POLYGATE_SUBGRAPHS__ORG__URL",
        "cargo feature `org`",
    ] {
        assert!(no_url.contains(needle), "expected `{needle}` in: {no_url}");
    }
}
