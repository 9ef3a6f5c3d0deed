//! The gateway's response cache end to end: one `polygate serve` with `[cache]`
//! switched on by a config file, embedded stores, demo data.
//!
//! Whether a response came from the cache is read from the `x-polygate-cache` header (`hit`,
//! `miss` = stored now, absent = not cacheable), never from timing.

use polygate_e2e::gateway::{
    DEMO_PASSWORD, DEMO_STAFF_EMAIL, embedded_gateway, login_token, temp_data_dir,
};
use polygate_e2e::graphql::Client;
use serde_json::{Value, json};

/// Product data for a minute, `User` private, and `placeOrder` left to what its response shows.
const CACHE_ON: &str = r#"
[cache]
enabled = true

[cache.types.Product]
max_age_secs = 60
[cache.types.ProductPage]
max_age_secs = 60
[cache.types.Money]
max_age_secs = 300
[cache.types.User]
max_age_secs = 60
scope = "private"
"#;

struct Answer {
    status: u16,
    cache: Option<String>,
    cache_control: Option<String>,
    etag: Option<String>,
    body: Value,
}

async fn post(url: &str, token: Option<&str>, query: &str, variables: Value) -> Answer {
    let mut request = reqwest::Client::new()
        .post(url)
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    answer(request.send().await.expect("gateway answers")).await
}

async fn answer(response: reqwest::Response) -> Answer {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (cache, cache_control, etag) = (
        header("x-polygate-cache"),
        header("cache-control"),
        header("etag"),
    );
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    Answer {
        status,
        cache,
        cache_control,
        etag,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

async fn gateway_with(config: &str) -> polygate_e2e::process::Service {
    // Read once, at start: the folder may go when the gateway is up.
    let dir = temp_data_dir("cache-config");
    let file = dir.join("polygate.toml");
    std::fs::write(&file, config).unwrap();
    embedded_gateway(&[("POLYGATE_CONFIG", file.display().to_string())])
        .await
        .unwrap()
}

const MUG: &str = "{ product(sku: \"MUG-01\") { sku name available } }";

#[tokio::test]
async fn a_repeated_public_query_is_served_from_the_cache_with_its_policy_in_cache_control() {
    let gateway = gateway_with(CACHE_ON).await;
    let url = gateway.url("/graphql");
    let first = post(&url, None, MUG, json!({})).await;
    assert_eq!(first.body["errors"], Value::Null, "{}", first.body);
    assert_eq!(first.cache.as_deref(), Some("miss"));
    assert_eq!(first.cache_control.as_deref(), Some("public, max-age=60"));
    let second = post(&url, None, MUG, json!({})).await;
    assert_eq!(second.cache.as_deref(), Some("hit"));
    assert_eq!(second.body, first.body);
    // Whitespace and a different operation text of the same normalised operation share the entry.
    let reformatted = post(
        &url,
        None,
        "query Mug {\n  product(sku: \"MUG-01\") { sku name available }\n}",
        json!({}),
    )
    .await;
    assert_eq!(reformatted.body, first.body);
    let metrics = metrics_text(&gateway).await;
    assert!(
        metrics
            .contains("polygate_cache_events_total{event=\"hit\",level=\"l1\",type=\"Product\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn user_a_never_receives_user_b_s_cached_private_data() {
    let gateway = gateway_with(CACHE_ON).await;
    let url = gateway.url("/graphql");
    let client = Client::new(url.clone());
    let alice = login_token(&client, DEMO_STAFF_EMAIL, DEMO_PASSWORD).await;
    let bob = login_token(&client, "bob@example.com", DEMO_PASSWORD).await;
    let me = "{ me { id email } }";

    let alice_first = post(&url, Some(&alice), me, json!({})).await;
    assert_eq!(
        alice_first.body["data"]["me"]["email"],
        json!(DEMO_STAFF_EMAIL),
        "{}",
        alice_first.body
    );
    assert_eq!(alice_first.cache.as_deref(), Some("miss"));
    assert_eq!(
        alice_first.cache_control.as_deref(),
        Some("private, max-age=60")
    );

    let bob_first = post(&url, Some(&bob), me, json!({})).await;
    assert_eq!(
        bob_first.body["data"]["me"]["email"],
        json!("bob@example.com"),
        "{}",
        bob_first.body
    );
    assert_eq!(
        bob_first.cache.as_deref(),
        Some("miss"),
        "bob must not get alice's entry"
    );

    let alice_again = post(&url, Some(&alice), me, json!({})).await;
    assert_eq!(alice_again.cache.as_deref(), Some("hit"));
    assert_eq!(
        alice_again.body["data"]["me"]["email"],
        json!(DEMO_STAFF_EMAIL)
    );
    let bob_again = post(&url, Some(&bob), me, json!({})).await;
    assert_eq!(bob_again.cache.as_deref(), Some("hit"));
    assert_eq!(
        bob_again.body["data"]["me"]["email"],
        json!("bob@example.com")
    );

    // Anonymous: private data of nobody is not cached (and not served from anyone's entry).
    let anonymous = post(&url, None, me, json!({})).await;
    assert_eq!(anonymous.cache, None);
    assert_eq!(
        anonymous.body["data"]["me"],
        Value::Null,
        "{}",
        anonymous.body
    );
}

#[tokio::test]
async fn a_response_with_errors_is_never_cached() {
    let gateway = gateway_with(CACHE_ON).await;
    let url = gateway.url("/graphql");
    // Neither id nor sku: the field fails with an error.
    let failing = "{ product { sku name } }";
    for _ in 0..2 {
        let answer = post(&url, None, failing, json!({})).await;
        assert_ne!(answer.body["errors"], Value::Null, "{}", answer.body);
        assert_eq!(answer.cache, None, "{}", answer.body);
    }
}

#[tokio::test]
async fn an_order_drops_the_ordered_product_s_entries_and_keeps_the_others() {
    let gateway = gateway_with(CACHE_ON).await;
    let url = gateway.url("/graphql");
    let pen = "{ product(sku: \"PEN-01\") { sku available } }";
    let before = post(&url, None, MUG, json!({})).await;
    assert_eq!(before.cache.as_deref(), Some("miss"), "{}", before.body);
    post(&url, None, pen, json!({})).await;
    assert_eq!(
        post(&url, None, MUG, json!({})).await.cache.as_deref(),
        Some("hit")
    );

    let client = Client::new(url.clone());
    let bob = login_token(&client, "bob@example.com", DEMO_PASSWORD).await;
    let order = post(
        &url,
        Some(&bob),
        "mutation($k: String!) {
            placeOrder(input: { items: [{ sku: \"MUG-01\", quantity: 2 }], idempotencyKey: $k }) {
                id lines { quantity product { sku } }
            }
        }",
        json!({ "k": polygate_kit::testing::unique_name("cache-order") }),
    )
    .await;
    assert_eq!(order.body["errors"], Value::Null, "{}", order.body);

    let after = post(&url, None, MUG, json!({})).await;
    assert_eq!(
        after.cache.as_deref(),
        Some("miss"),
        "the mug's entry was dropped"
    );
    assert_eq!(
        after.body["data"]["product"]["available"].as_i64().unwrap(),
        before.body["data"]["product"]["available"]
            .as_i64()
            .unwrap()
            - 2,
        "the next read is fresh"
    );
    let pen_after = post(&url, None, pen, json!({})).await;
    assert_eq!(
        pen_after.cache.as_deref(),
        Some("hit"),
        "an unrelated product stays cached"
    );
}

#[tokio::test]
async fn a_get_with_the_etag_it_was_given_gets_304() {
    let gateway = gateway_with(CACHE_ON).await;
    let url = gateway.url("/graphql");
    let get = |etag: Option<String>| {
        let mut request = reqwest::Client::new()
            .get(&url)
            .query(&[("query", MUG)])
            .header("accept", "application/json");
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        async move { answer(request.send().await.expect("gateway answers")).await }
    };
    let first = get(None).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let etag = first.etag.clone().expect("an ETag on a cacheable response");
    let conditional = get(Some(etag.clone())).await;
    assert_eq!(conditional.status, 304);
    assert_eq!(conditional.etag.as_deref(), Some(etag.as_str()));
    let other = get(Some("\"something-else\"".to_owned())).await;
    assert_eq!(other.status, 200);
    assert_eq!(other.cache.as_deref(), Some("hit"));
}

#[tokio::test]
async fn with_the_cache_off_nothing_is_cached_or_labelled() {
    let gateway =
        gateway_with("[cache]\nenabled = false\n[cache.types.Product]\nmax_age_secs = 60\n").await;
    let url = gateway.url("/graphql");
    for _ in 0..2 {
        let answer = post(&url, None, MUG, json!({})).await;
        assert_eq!(answer.body["errors"], Value::Null, "{}", answer.body);
        assert_eq!(answer.cache, None);
        assert_eq!(answer.etag, None);
    }
}

#[tokio::test]
async fn a_persisted_query_is_refused_by_hash_until_registered_then_served_by_hash_over_get() {
    let gateway = gateway_with(CACHE_ON).await;
    let url = gateway.url("/graphql");
    let query = "{ product(sku: \"KETTLE-01\") { sku name } }";
    let hash = {
        use std::fmt::Write as _;
        let digest = <sha2::Sha256 as sha2::Digest>::digest(query.as_bytes());
        digest.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    };
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let http = reqwest::Client::new();
    let only_hash = || http.post(&url).json(&json!({ "extensions": extensions }));

    let unknown: Value = only_hash().send().await.unwrap().json().await.unwrap();
    assert_eq!(
        unknown["errors"][0]["message"],
        json!("PersistedQueryNotFound"),
        "{unknown}"
    );

    let registered: Value = http
        .post(&url)
        .json(&json!({ "query": query, "extensions": extensions }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        registered["data"]["product"]["sku"],
        json!("KETTLE-01"),
        "{registered}"
    );

    let by_hash: Value = only_hash().send().await.unwrap().json().await.unwrap();
    assert_eq!(by_hash, registered);
    let by_get = answer(
        http.get(&url)
            .query(&[("extensions", extensions.to_string())])
            .header("accept", "application/json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(by_get.status, 200, "{}", by_get.body);
    assert_eq!(by_get.body, registered);

    // A registration takes the full path every time (this instance may have evicted the query
    // since), while a hash alone, answered once, is answered early after that.
    for _ in 0..2 {
        let again = answer(
            http.post(&url)
                .json(&json!({ "query": query, "extensions": extensions }))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(again.cache.as_deref(), Some("hit"));
        assert_eq!(again.body, registered);
    }
    assert_eq!(cache_events(&gateway, "early_hit", "Product").await, 0);
    let by_hash_again: Value = only_hash().send().await.unwrap().json().await.unwrap();
    assert_eq!(by_hash_again, registered);
    assert_eq!(cache_events(&gateway, "early_hit", "Product").await, 1);
}

async fn metrics_text(gateway: &polygate_e2e::process::Service) -> String {
    reqwest::get(gateway.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The count of one cache event on the gateway's `/metrics` (0 before its first).
async fn cache_events(
    gateway: &polygate_e2e::process::Service,
    event: &str,
    type_name: &str,
) -> u64 {
    let metrics = metrics_text(gateway).await;
    let series = format!(
        "polygate_cache_events_total{{event=\"{event}\",level=\"l1\",type=\"{type_name}\"}} "
    );
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series.as_str()))
        .map_or(0, |count| count.trim().parse().unwrap())
}

#[tokio::test]
async fn a_repeated_request_is_answered_before_parsing_in_the_content_type_it_negotiated() {
    let gateway = gateway_with(CACHE_ON).await;
    let url = gateway.url("/graphql");
    let send = |accept: &'static str, query: &str| {
        let request = reqwest::Client::new()
            .post(&url)
            .header("accept", accept)
            .json(&json!({ "query": query }));
        async move {
            let response = request.send().await.expect("gateway answers");
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            (content_type, answer(response).await)
        }
    };
    let mut expected_early = 0;
    let mut first_body = None;
    for accept in ["application/graphql-response+json", "application/json"] {
        // The first of each is answered the full way (stored, or a hit found after planning)
        // and remembered; its copies are answered early, in the type negotiated for the first.
        let (negotiated, first) = send(accept, MUG).await;
        assert!(
            negotiated.as_deref().is_some_and(|t| t.starts_with(accept)),
            "{negotiated:?} for {accept}"
        );
        let first_body = first_body.get_or_insert(first.body.clone());
        assert_eq!(&first.body, first_body);
        for _ in 0..2 {
            let (content_type, again) = send(accept, MUG).await;
            assert_eq!(content_type, negotiated, "for {accept}");
            assert_eq!(again.cache.as_deref(), Some("hit"));
            // The age left, counting down from the first answer's 60 s.
            assert!(
                again
                    .cache_control
                    .as_deref()
                    .is_some_and(|c| c.starts_with("public, max-age=")),
                "{:?}",
                again.cache_control
            );
            assert_eq!(again.etag, first.etag);
            assert_eq!(&again.body, first_body);
            expected_early += 1;
            assert_eq!(
                cache_events(&gateway, "early_hit", "Product").await,
                expected_early
            );
        }
    }
    // A stream (here server-sent events) is framed by the engine: always the full way.
    for _ in 0..3 {
        let (content_type, streamed) = send("text/event-stream", MUG).await;
        assert!(
            content_type
                .as_deref()
                .is_some_and(|t| t.starts_with("text/event-stream")),
            "{content_type:?}"
        );
        assert_eq!(streamed.cache.as_deref(), Some("hit"));
    }
    assert_eq!(
        cache_events(&gateway, "early_hit", "Product").await,
        expected_early
    );
    // A byte more in the document is a request not seen before: the full way, to the same entry.
    let (_, reformatted) = send("application/json", &format!("{MUG} ")).await;
    assert_eq!(reformatted.cache.as_deref(), Some("hit"));
    assert_eq!(
        cache_events(&gateway, "early_hit", "Product").await,
        expected_early
    );
}
