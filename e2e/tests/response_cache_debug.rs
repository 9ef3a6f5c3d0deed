//! The `extensions.cache` debug summary end to end: one `polygate serve` with the cache on,
//! embedded stores, demo data. A signed-in viewer who sends `x-polygate-cache-debug: 1` is told
//! what the cache did and why; an anonymous request is not (the default `debug = "signed-in"`),
//! and nobody is told about another viewer's entry.

use polygate_e2e::gateway::{
    DEMO_PASSWORD, DEMO_STAFF_EMAIL, embedded_gateway, login_token, temp_data_dir,
};
use polygate_e2e::graphql::Client;
use serde_json::{Value, json};

const CACHE_ON: &str = r#"
[cache]
enabled = true

[cache.types.Product]
max_age_secs = 60
[cache.types.User]
max_age_secs = 30
scope = "private"
"#;

const MUG: &str = "{ product(sku: \"MUG-01\") { sku name available } }";

struct Answer {
    cache_control: Option<String>,
    etag: Option<String>,
    body: Value,
}

impl Answer {
    fn summary(&self) -> &Value {
        &self.body["extensions"]["cache"]
    }
}

async fn post(url: &str, token: Option<&str>, debug: bool, query: &str, vars: Value) -> Answer {
    let mut request = reqwest::Client::new()
        .post(url)
        .json(&json!({ "query": query, "variables": vars }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if debug {
        request = request.header("x-polygate-cache-debug", "1");
    }
    let response = request.send().await.expect("gateway answers");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (cache_control, etag) = (header("cache-control"), header("etag"));
    let text = response.text().await.expect("body");
    Answer {
        cache_control,
        etag,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

async fn gateway() -> polygate_e2e::process::Service {
    let config_dir = temp_data_dir("cache-debug");
    let file = config_dir.join("polygate.toml");
    std::fs::write(&file, CACHE_ON).unwrap();
    embedded_gateway(&[("POLYGATE_CONFIG", file.display().to_string())])
        .await
        .unwrap()
}

#[tokio::test]
async fn a_signed_in_viewer_asking_for_it_is_told_what_the_cache_did_and_why() {
    let gateway = gateway().await;
    let url = gateway.url("/graphql");
    let client = Client::new(url.clone());
    let bob = login_token(&client, "bob@example.com", DEMO_PASSWORD).await;
    let bob = Some(bob.as_str());

    let stored = post(&url, bob, true, MUG, json!({})).await;
    assert_eq!(stored.body["errors"], Value::Null, "{}", stored.body);
    let summary = stored.summary();
    assert_eq!(summary["level"], json!("response"), "{summary}");
    assert_eq!(summary["status"], json!("store"), "{summary}");
    assert_eq!(summary["lookups"], json!(["l1:miss"]), "{summary}");
    assert_eq!(summary["maxAge"], json!(60));
    assert_eq!(summary["scope"], json!("public"));
    assert_eq!(summary["types"], json!(["Product"]));
    let key = summary["key"].as_str().expect("a key prefix").to_owned();
    assert_eq!(key.len(), 8);
    // A debug body is not the cached body: no shared cache may keep it.
    assert_eq!(stored.cache_control.as_deref(), Some("no-store"));
    assert_eq!(stored.etag, None);

    let hit = post(&url, bob, true, MUG, json!({})).await;
    assert_eq!(hit.summary()["status"], json!("hit"), "{}", hit.body);
    assert_eq!(hit.summary()["source"], json!("l1"));
    assert_eq!(hit.summary()["key"], json!(key));
    assert_eq!(hit.body["data"], stored.body["data"]);
    // Without the header the same entry answers with no summary and its HTTP policy.
    let plain = post(&url, bob, false, MUG, json!({})).await;
    assert_eq!(plain.body["extensions"], Value::Null, "{}", plain.body);
    assert_eq!(plain.body["data"], stored.body["data"]);
    // A hit's max-age is what is left of the entry's 60 s.
    let left: u64 = plain
        .cache_control
        .as_deref()
        .and_then(|c| c.strip_prefix("public, max-age="))
        .and_then(|s| s.parse().ok())
        .expect("a public max-age");
    assert!(left <= 60, "{left}");

    let no_policy = post(&url, bob, true, "{ users { nodes { id } } }", json!({})).await;
    assert_eq!(no_policy.summary()["status"], json!("bypass"));
    assert_eq!(
        no_policy.summary()["reason"],
        json!("no policy for type UserPage")
    );

    let failing = post(&url, bob, true, "{ product { sku name } }", json!({})).await;
    assert_ne!(failing.body["errors"], Value::Null, "{}", failing.body);
    assert_eq!(
        failing.summary()["status"],
        json!("miss"),
        "{}",
        failing.body
    );
    assert!(
        failing.summary()["reason"]
            .as_str()
            .unwrap()
            .contains("no errors"),
        "{}",
        failing.body
    );

    let me = post(&url, bob, true, "{ me { id email } }", json!({})).await;
    assert_eq!(me.summary()["status"], json!("store"), "{}", me.body);
    assert_eq!(me.summary()["scope"], json!("private"));
    assert_eq!(me.summary()["maxAge"], json!(30));

    let order = post(
        &url,
        bob,
        true,
        "mutation($k: String!) {
            placeOrder(input: { items: [{ sku: \"MUG-01\", quantity: 1 }], idempotencyKey: $k }) {
                id lines { product { sku } }
            }
        }",
        json!({ "k": polygate_kit::testing::unique_name("cache-debug-order") }),
    )
    .await;
    assert_eq!(order.body["errors"], Value::Null, "{}", order.body);
    assert_eq!(order.summary()["status"], json!("bypass"));
    assert_eq!(order.summary()["reason"], json!("mutation"));
    let invalidated = order.summary()["invalidated"].as_array().unwrap();
    assert!(
        invalidated.contains(&json!("e:Product:MUG-01")),
        "{invalidated:?}"
    );

    let after = post(&url, bob, true, MUG, json!({})).await;
    assert_eq!(
        after.summary()["lookups"],
        json!(["l1:stale"]),
        "{}",
        after.body
    );
    assert_eq!(after.summary()["status"], json!("store"));
}

#[tokio::test]
async fn anonymous_requests_get_no_summary_and_no_viewer_learns_of_another_s_private_entry() {
    let gateway = gateway().await;
    let url = gateway.url("/graphql");
    let client = Client::new(url.clone());
    let alice = login_token(&client, DEMO_STAFF_EMAIL, DEMO_PASSWORD).await;
    let bob = login_token(&client, "bob@example.com", DEMO_PASSWORD).await;

    let anonymous = post(&url, None, true, MUG, json!({})).await;
    assert_eq!(anonymous.body["errors"], Value::Null, "{}", anonymous.body);
    assert_eq!(
        anonymous.body["extensions"],
        Value::Null,
        "{}",
        anonymous.body
    );
    assert_eq!(
        anonymous.cache_control.as_deref(),
        Some("public, max-age=60")
    );

    let me = "{ me { id email } }";
    let alice_me = post(&url, Some(&alice), true, me, json!({})).await;
    assert_eq!(alice_me.summary()["status"], json!("store"));
    let bob_me = post(&url, Some(&bob), true, me, json!({})).await;
    assert_eq!(
        bob_me.summary()["status"],
        json!("store"),
        "bob's lookup never finds alice's entry: {}",
        bob_me.body
    );
    assert_ne!(bob_me.summary()["key"], alice_me.summary()["key"]);
    assert_eq!(bob_me.body["data"]["me"]["email"], json!("bob@example.com"));
    let text = bob_me.body.to_string();
    assert!(!text.contains(DEMO_STAFF_EMAIL), "{text}");

    let anonymous_me = post(&url, None, false, me, json!({})).await;
    assert_eq!(anonymous_me.body["extensions"], Value::Null);
}
