//! Sign-in at the gateway under attack: guessed, malformed, expired and revoked tokens, forged
//! identity headers, and clients or sessions that send too much.

use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use polygate_e2e::gateway::{DEMO_PASSWORD, DEMO_STAFF_EMAIL, embedded_gateway, login_token};
use polygate_e2e::graphql::{Client, error_codes};
use serde_json::{Value, json};

async fn token(client: &Client) -> String {
    login_token(client, DEMO_STAFF_EMAIL, DEMO_PASSWORD).await
}

#[tokio::test]
async fn malformed_tokens_are_anonymous_and_public_fields_still_answer() {
    let gateway = embedded_gateway(&[]).await.unwrap();
    let client = Client::new(gateway.url("/graphql"));
    for bad in ["not-a-token", "a.b.c", "1.2.zzzz", "{}", &"f".repeat(200)] {
        let r = client
            .with_token(bad)
            .query("{ me { id } __typename }", json!({}))
            .await;
        assert_eq!(r["data"]["__typename"], json!("Query"), "{bad}: {r}");
        assert_eq!(error_codes(&r), vec!["UNAUTHENTICATED"], "{bad}: {r}");
    }
}

#[tokio::test]
async fn a_token_past_its_idle_timeout_is_refused() {
    let gateway = embedded_gateway(&[(
        "POLYGATE_SUBGRAPHS__SESSION__IDLE_TIMEOUT_SECS",
        "1".to_owned(),
    )])
    .await
    .unwrap();
    let client = Client::new(gateway.url("/graphql"));
    let signed_in = client.with_token(&token(&client).await);
    let fresh = signed_in.query("{ me { id } }", json!({})).await;
    assert_eq!(fresh["errors"], Value::Null, "{fresh}");

    tokio::time::sleep(Duration::from_millis(2200)).await;
    let expired = signed_in.query("{ me { id } }", json!({})).await;
    assert_eq!(error_codes(&expired), vec!["UNAUTHENTICATED"], "{expired}");
}

#[tokio::test]
async fn a_client_address_over_its_limit_gets_429_rate_limited_with_retry_after() {
    let gateway = embedded_gateway(&[
        ("POLYGATE_LIMITS__CLIENT_REQUESTS_PER_SEC", "1".to_owned()),
        ("POLYGATE_LIMITS__CLIENT_BURST", "3".to_owned()),
    ])
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let response = http
            .post(gateway.url("/graphql"))
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        last = Some(response);
    }
    assert_eq!(&statuses[..3], &[200, 200, 200], "{statuses:?}");
    assert_eq!(statuses[4], 429, "{statuses:?}");
    let last = last.unwrap();
    assert!(last.headers().contains_key("retry-after"));
    let body: Value = last.json().await.unwrap();
    assert_eq!(error_codes(&body), vec!["RATE_LIMITED"]);

    // Health checks and metrics are not metered.
    let health = http.get(gateway.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn a_session_over_its_limit_is_rate_limited() {
    let gateway = embedded_gateway(&[
        ("POLYGATE_LIMITS__SESSION_REQUESTS_PER_SEC", "1".to_owned()),
        ("POLYGATE_LIMITS__SESSION_BURST", "2".to_owned()),
    ])
    .await
    .unwrap();
    let client = Client::new(gateway.url("/graphql"));
    let signed_in = client.with_token(&token(&client).await);
    let mut codes = Vec::new();
    for _ in 0..4 {
        let r = signed_in.query("{ me { id } }", json!({})).await;
        codes.push(error_codes(&r));
    }
    assert!(codes[0].is_empty() && codes[1].is_empty(), "{codes:?}");
    assert_eq!(codes[3], vec!["RATE_LIMITED"], "{codes:?}");
    // The same client without the token is not limited by the session's bucket.
    let anonymous = client.query("{ __typename }", json!({})).await;
    assert_eq!(anonymous["errors"], Value::Null, "{anonymous}");
}

/// Two gateways whose session store is one Redis, so they share every client address's bucket;
/// a client address of 1 request/s with a burst of 3, metered locally for `client_meter_ms`.
async fn two_gateways_on_one_redis(
    redis: &str,
    client_meter_ms: u64,
) -> [polygate_e2e::process::Service; 2] {
    let env = [
        ("POLYGATE_SUBGRAPHS__SESSION__STORE", redis.to_owned()),
        ("POLYGATE_LIMITS__CLIENT_REQUESTS_PER_SEC", "1".to_owned()),
        ("POLYGATE_LIMITS__CLIENT_BURST", "3".to_owned()),
        (
            "POLYGATE_LIMITS__CLIENT_METER_MS",
            client_meter_ms.to_string(),
        ),
    ];
    let a = embedded_gateway(&env).await.unwrap();
    let b = embedded_gateway(&env).await.unwrap();
    [a, b]
}

/// An HTTP client connecting from a loopback address of its own (127.x.y.z), so its bucket in
/// the shared Redis is its own: not another test's, not an earlier run's.
fn client_from_own_address() -> reqwest::Client {
    let [_, x, y, z] = RandomState::new()
        .hash_one(std::process::id())
        .to_be_bytes()[..4]
    else {
        unreachable!()
    };
    let address = Ipv4Addr::new(127, x, y, z.max(2));
    reqwest::Client::builder()
        .local_address(IpAddr::V4(address))
        .build()
        .unwrap()
}

/// The HTTP status of one anonymous request to each gateway, in this order.
async fn statuses(
    http: &reqwest::Client,
    gateways: &[&polygate_e2e::process::Service],
) -> Vec<u16> {
    let mut out = Vec::new();
    for gateway in gateways {
        let response = http
            .post(gateway.url("/graphql"))
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .unwrap();
        out.push(response.status().as_u16());
    }
    out
}

#[tokio::test]
async fn without_the_client_meter_gateways_sharing_a_store_share_a_client_limit_exactly() {
    let Some(redis) = polygate_kit::testing::server_url("POLYGATE_TEST_REDIS_URL") else {
        return;
    };
    let [a, b] = two_gateways_on_one_redis(&redis, 0).await;
    let http = client_from_own_address();
    let got = statuses(&http, &[&a, &b, &a, &b, &a]).await;
    assert_eq!(got, [200, 200, 200, 429, 429], "a burst of 3 across both");
}

#[tokio::test]
async fn with_the_client_meter_gateways_sharing_a_store_overshoot_by_at_most_one_burst_each() {
    let Some(redis) = polygate_kit::testing::server_url("POLYGATE_TEST_REDIS_URL") else {
        return;
    };
    // Long enough that every copy stays trusted for the whole test.
    let [a, b] = two_gateways_on_one_redis(&redis, 60_000).await;
    let http = client_from_own_address();
    // A asks the store (3 → 2 left, A's copy: 2), B asks it (2 → 1 left, B's copy: 1); then
    // both admit from their copies: 2 + 1 more, without the store.
    let burst = statuses(&http, &[&a, &b, &a, &a, &b]).await;
    assert_eq!(
        burst, [200; 5],
        "2 × 3 − 1 at once, against 3 with the meter off"
    );
    // Spent copies ask the store, billing what they admitted: it refuses both, and each gateway
    // then holds the address off until the store's retry_after (seconds, now it is in debt).
    let refused = statuses(&http, &[&a, &b, &a, &b]).await;
    assert_eq!(refused, [429; 4]);
    let last = http
        .post(a.url("/graphql"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    let retry_after: u64 = last.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        retry_after >= 2,
        "the debt of the overshoot is paid off first: {retry_after} s"
    );
}
