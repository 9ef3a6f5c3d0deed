//! Sign-in at the gateway under attack: guessed, malformed, expired and revoked tokens, forged
//! identity headers, and clients or sessions that send too much.

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
