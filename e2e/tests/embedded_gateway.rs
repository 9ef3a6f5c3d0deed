//! The embedded default end to end: one `polygate serve`, no servers, demo data seeded.

use polygate_e2e::gateway::{DEMO_PASSWORD, DEMO_STAFF_EMAIL, embedded_gateway};
use polygate_e2e::graphql::{Client, error_codes};
use serde_json::{Value, json};

const LOGIN: &str =
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token user { id } } }";

async fn login(client: &Client, email: &str, password: &str) -> (String, String) {
    let r = client
        .query(LOGIN, json!({ "e": email, "p": password }))
        .await;
    let token = r["data"]["login"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login failed: {r}"))
        .to_owned();
    let id = r["data"]["login"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (token, id)
}

#[tokio::test]
async fn a_new_user_registers_logs_in_and_reads_themself_with_their_sessions() {
    let gateway = embedded_gateway(&[]).await.unwrap();
    let client = Client::new(gateway.url("/graphql"));

    let registered = client
        .query(
            "mutation($i: RegisterInput!) { register(input: $i) { id email } }",
            json!({ "i": { "email": "carol@example.com", "password": "correct horse", "name": "Carol" } }),
        )
        .await;
    assert_eq!(registered["errors"], Value::Null, "{registered}");
    let user_id = registered["data"]["register"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (token, login_id) = login(&client, "carol@example.com", "correct horse").await;
    assert_eq!(login_id, user_id);

    let me = client
        .with_token(&token)
        .query("{ me { id email sessions { id current } } }", json!({}))
        .await;
    assert_eq!(me["errors"], Value::Null, "{me}");
    assert_eq!(me["data"]["me"]["id"], json!(user_id));
    assert_eq!(me["data"]["me"]["email"], json!("carol@example.com"));
    let sessions = me["data"]["me"]["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{me}");
    assert_eq!(sessions[0]["current"], json!(true));
}

#[tokio::test]
async fn a_shopper_browses_the_demo_catalog_orders_and_sees_the_order_with_its_products() {
    let gateway = embedded_gateway(&[]).await.unwrap();
    let client = Client::new(gateway.url("/graphql"));
    let catalog = client
        .query(
            "{ products(first: 3) { nodes { sku available price { amountMinor currency } } } }",
            json!({}),
        )
        .await;
    assert_eq!(catalog["errors"], Value::Null, "{catalog}");
    let nodes = catalog["data"]["products"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3, "the demo catalog is seeded: {catalog}");
    let mug = client
        .query("{ product(sku: \"MUG-01\") { available } }", json!({}))
        .await;
    let stock = mug["data"]["product"]["available"].as_i64().expect("stock");

    let (token, user_id) = login(&client, "bob@example.com", DEMO_PASSWORD).await;
    let bob = client.with_token(&token);
    let place = "mutation($k: String!) {
        placeOrder(input: { items: [{ sku: \"mug-01\", quantity: 2 }], idempotencyKey: $k }) {
            id status total { amountMinor currency } lines { sku quantity product { name } }
        }
    }";
    let placed = bob.query(place, json!({ "k": "e2e-first" })).await;
    assert_eq!(placed["errors"], Value::Null, "{placed}");
    let order = &placed["data"]["placeOrder"];
    assert_eq!(order["status"], "PENDING");
    assert_eq!(order["lines"][0]["sku"], "MUG-01");
    assert!(order["lines"][0]["product"]["name"].is_string(), "{placed}");

    // The user, their orders and the products in them: one query over both stores.
    let mine = bob
        .query(
            "{ me { id sessions { current } orders(first: 5) { nodes { id lines { product { available } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(mine["errors"], Value::Null, "{mine}");
    assert_eq!(mine["data"]["me"]["id"], json!(user_id));
    assert_eq!(mine["data"]["me"]["orders"]["nodes"][0]["id"], order["id"]);
    assert_eq!(
        mine["data"]["me"]["orders"]["nodes"][0]["lines"][0]["product"]["available"],
        json!(stock - 2),
        "the cached product shows the stock the order took"
    );

    // The product cache answered some of those reads, and says so on /metrics.
    let metrics = polygate_e2e::metrics::fetch(&gateway.url("/metrics")).await;
    let ratio = metrics
        .lines()
        .find(|l| l.starts_with("polygate_cache_hit_ratio{cache=\"product\"}"))
        .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .expect("hit ratio exported");
    assert!(
        ratio > 0.0 && ratio < 1.0,
        "some hits, some misses: {ratio}"
    );

    // A clear, coded error reaches the client through the gateway, message included.
    let unknown = bob
        .query(
            "mutation { placeOrder(input: { items: [{ sku: \"NOPE-1\", quantity: 1 }], idempotencyKey: \"e2e-x\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&unknown), ["BAD_USER_INPUT"], "{unknown}");
    assert!(
        unknown["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown SKU NOPE-1"),
        "{unknown}"
    );
}

#[tokio::test]
async fn a_forged_identity_header_is_ignored() {
    let gateway = embedded_gateway(&[]).await.unwrap();
    let client = Client::new(gateway.url("/graphql"));
    let (_, alice_id) = login(&client, DEMO_STAFF_EMAIL, DEMO_PASSWORD).await;

    let forged = client
        .post_with_headers(
            "{ me { id email } }",
            json!({}),
            &[
                ("x-polygate-user", alice_id.as_str()),
                ("x-polygate-staff", "1"),
            ],
        )
        .await;
    assert_eq!(forged["data"]["me"], Value::Null, "{forged}");
    assert_eq!(error_codes(&forged), vec!["UNAUTHENTICATED"]);
}

#[tokio::test]
async fn a_bad_or_revoked_token_is_anonymous() {
    let gateway = embedded_gateway(&[]).await.unwrap();
    let client = Client::new(gateway.url("/graphql"));
    let (token, _) = login(&client, DEMO_STAFF_EMAIL, DEMO_PASSWORD).await;

    let guessed = client
        .with_token(&"0".repeat(64))
        .query("{ me { id } }", json!({}))
        .await;
    assert_eq!(error_codes(&guessed), vec!["UNAUTHENTICATED"]);

    let signed_in = client.with_token(&token);
    let logout = signed_in
        .query(
            "mutation($t: String!) { logout(token: $t) }",
            json!({ "t": token }),
        )
        .await;
    assert_eq!(logout["data"]["logout"], json!(true), "{logout}");
    let after = signed_in.query("{ me { id } }", json!({})).await;
    assert_eq!(error_codes(&after), vec!["UNAUTHENTICATED"]);
}

#[tokio::test]
async fn graphiql_health_ready_and_metrics_are_served() {
    let gateway = embedded_gateway(&[]).await.unwrap();
    let http = reqwest::Client::new();

    let page = http.get(gateway.url("/")).send().await.unwrap();
    assert!(page.status().is_success());
    assert!(
        page.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );

    let ready = http.get(gateway.url("/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    // One query so the store and subgraph metrics have samples.
    Client::new(gateway.url("/graphql"))
        .query(LOGIN, json!({ "e": DEMO_STAFF_EMAIL, "p": DEMO_PASSWORD }))
        .await;
    http.post(gateway.url("/graphql"))
        .json(&json!({ "query": "query WhoAmI { __typename }", "operationName": "WhoAmI" }))
        .send()
        .await
        .unwrap();
    let metrics = http.get(gateway.url("/metrics")).send().await.unwrap();
    let body = metrics.text().await.unwrap();
    assert!(
        body.contains("operation=\"WhoAmI\""),
        "request latency is labelled per operation"
    );
    for family in [
        "polygate_store_call_seconds",
        "polygate_subgraph_call_seconds",
        "polygate_http_request_seconds",
    ] {
        assert!(body.contains(family), "{family} missing from /metrics");
    }
}

#[tokio::test]
async fn graphiql_and_introspection_can_be_switched_off() {
    let gateway = embedded_gateway(&[
        ("POLYGATE_SERVER__GRAPHIQL", "false".to_owned()),
        ("POLYGATE_SERVER__INTROSPECTION", "false".to_owned()),
    ])
    .await
    .unwrap();
    let page = reqwest::get(gateway.url("/")).await.unwrap();
    assert_eq!(page.status(), 404);
    let r = Client::new(gateway.url("/graphql"))
        .query("{ __schema { queryType { name } } }", json!({}))
        .await;
    assert!(r["errors"].is_array(), "{r}");
    assert_eq!(r["data"]["__schema"], Value::Null, "{r}");
}

#[tokio::test]
async fn queries_beyond_the_depth_or_alias_limits_are_bad_user_input() {
    let gateway = embedded_gateway(&[
        ("POLYGATE_LIMITS__MAX_DEPTH", "3".to_owned()),
        ("POLYGATE_LIMITS__MAX_ALIASES", "2".to_owned()),
    ])
    .await
    .unwrap();
    let client = Client::new(gateway.url("/graphql"));
    let deep = client
        .query("{ me { sessions { id } } __typename }", json!({}))
        .await;
    assert!(
        error_codes(&deep).is_empty() || error_codes(&deep) == ["UNAUTHENTICATED"],
        "{deep}"
    );
    let deeper = client
        .query("{ users { nodes { sessions { id } } } }", json!({}))
        .await;
    assert_eq!(error_codes(&deeper), vec!["BAD_USER_INPUT"], "{deeper}");
    let aliased = client
        .query("{ a: __typename b: __typename c: __typename }", json!({}))
        .await;
    assert_eq!(error_codes(&aliased), vec!["BAD_USER_INPUT"], "{aliased}");
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let gateway = embedded_gateway(&[("POLYGATE_LIMITS__MAX_BODY_BYTES", "2048".to_owned())])
        .await
        .unwrap();
    let big = format!("{{ __typename }} # {}", "x".repeat(4096));
    let response = reqwest::Client::new()
        .post(gateway.url("/graphql"))
        .json(&json!({ "query": big }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn graphql_answers_get_as_well_as_post() {
    let gateway = embedded_gateway(&[]).await.unwrap();
    let response = reqwest::Client::new()
        .get(gateway.url("/graphql"))
        .query(&[("query", "{ __typename }")])
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["__typename"], json!("Query"));
}

/// Hive Router reads its config file once, before our plugin starts; the plugin removes it then,
/// so a gateway killed by a signal leaves no file behind in the temp folder.
#[tokio::test]
async fn a_running_gateway_has_removed_its_router_config_file() {
    let gateway = embedded_gateway(&[]).await.unwrap();
    let file = std::env::temp_dir().join(format!("polygate-router-{}.json", gateway.pid()));
    assert!(!file.exists(), "{} is still there", file.display());
}
