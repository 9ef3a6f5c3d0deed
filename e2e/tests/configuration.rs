//! Start-up configuration: cloud stores in-process, and refusals that name the key at fault.

use polygate_e2e::gateway::{DEMO_PASSWORD, embedded_gateway, login_token, temp_data_dir};
use polygate_e2e::graphql::Client;
use polygate_e2e::run_to_exit;
use polygate_kit::testing::postgres::with_fresh_database;
use serde_json::{Value, json};

fn serve_fails_with(env: &[(&str, &str)], expected: &[&str]) {
    let data = temp_data_dir("cfg");
    let mut all: Vec<(&str, String)> = vec![
        ("POLYGATE_SERVER__DATA_DIR", data.display().to_string()),
        ("POLYGATE_SERVER__LISTEN", "127.0.0.1:0".to_owned()),
    ];
    all.extend(env.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let (ok, stderr) = run_to_exit("polygate", &["serve"], &all);
    assert!(!ok, "serve should refuse to start");
    for needle in expected {
        assert!(stderr.contains(needle), "expected `{needle}` in: {stderr}");
    }
}

#[test]
fn an_unreachable_store_stops_start_up_naming_the_key() {
    serve_fails_with(
        &[(
            "POLYGATE_SUBGRAPHS__COMMERCE__STORE",
            "postgres://app:hunter2@127.0.0.1:1/commerce",
        )],
        &["subgraphs.commerce.store"],
    );
    let (_, stderr) = run_to_exit(
        "polygate",
        &["serve"],
        &[(
            "POLYGATE_SUBGRAPHS__COMMERCE__STORE",
            "postgres://app:hunter2@127.0.0.1:1/commerce".to_owned(),
        )],
    );
    assert!(!stderr.contains("hunter2"), "password leaked: {stderr}");
}

#[test]
fn an_unknown_key_or_malformed_url_stops_start_up_naming_it() {
    serve_fails_with(&[("POLYGATE_SERVER__LISTEN_ON", "x")], &["listen_on"]);
    serve_fails_with(
        &[("POLYGATE_SUBGRAPHS__SESSION__URL", "not a url")],
        &["subgraphs.session.url"],
    );
}

#[test]
fn an_explicit_config_file_that_is_missing_is_an_error() {
    let (ok, stderr) = run_to_exit(
        "polygate",
        &["--config", "/nonexistent/polygate.toml", "serve"],
        &[],
    );
    assert!(!ok);
    assert!(stderr.contains("/nonexistent/polygate.toml"), "{stderr}");
}

#[tokio::test]
async fn in_process_subgraphs_run_on_postgres_and_redis() {
    let Some(redis) = polygate_kit::testing::server_url("POLYGATE_TEST_REDIS_URL") else {
        return;
    };
    with_fresh_database("e2e", |database_url| async move {
        let gateway = embedded_gateway(&[
            ("POLYGATE_SUBGRAPHS__COMMERCE__STORE", database_url),
            ("POLYGATE_SUBGRAPHS__SESSION__STORE", redis),
        ])
        .await
        .unwrap();
        let client = Client::new(gateway.url("/graphql"));
        let email = format!("{}@example.com", polygate_kit::testing::unique_name("erin"));
        let r = client
            .query(
                "mutation($i: RegisterInput!) { register(input: $i) { id } }",
                json!({ "i": { "email": email, "password": DEMO_PASSWORD, "name": "Erin" } }),
            )
            .await;
        assert_eq!(r["errors"], Value::Null, "{r}");
        let token = login_token(&client, &email, DEMO_PASSWORD).await;
        let me = client
            .with_token(&token)
            .query("{ me { email sessions { current } } }", json!({}))
            .await;
        assert_eq!(me["data"]["me"]["email"], json!(email), "{me}");
        assert_eq!(me["data"]["me"]["sessions"], json!([{ "current": true }]));
        let ready = reqwest::get(gateway.url("/ready")).await.unwrap();
        assert_eq!(ready.status(), 200);
    })
    .await;
}
