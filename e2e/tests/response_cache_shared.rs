//! Two gateway instances sharing one Redis as the cache's L2: an entry one stores
//! serves the other, and a mutation through one drops the entry on the other.
//!
//! Each instance has its own embedded stores; whether an answer came from the cache is read
//! from `x-polygate-cache`. Each test uses its own key prefix on the shared Redis.

use std::time::{Duration, Instant};

use polygate_e2e::gateway::{DEMO_PASSWORD, embedded_gateway, login_token, temp_data_dir};
use polygate_e2e::graphql::Client;
use serde_json::{Value, json};

const MUG: &str = "{ product(sku: \"MUG-01\") { sku name available } }";

async fn cache_status(url: &str, query: &str) -> (Option<String>, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("gateway answers");
    let status = response
        .headers()
        .get("x-polygate-cache")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, response.json().await.expect("JSON"))
}

async fn instance(redis: &str, prefix: &str) -> polygate_e2e::process::Service {
    // Read once, at start: the folder may go when the gateway is up.
    let dir = temp_data_dir("cache-shared");
    let file = dir.join("polygate.toml");
    std::fs::write(
        &file,
        format!(
            "[cache]\nenabled = true\nredis_url = \"{redis}\"\nredis_prefix = \"{prefix}\"\n\
             [cache.types.Product]\nmax_age_secs = 60\n"
        ),
    )
    .unwrap();
    embedded_gateway(&[("POLYGATE_CONFIG", file.display().to_string())])
        .await
        .unwrap()
}

/// Asks until the cache answers (the L2 subscription is made in the background at start).
async fn until_cached(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while cache_status(url, "{ product(sku: \"LAMP-01\") { sku } }")
        .await
        .0
        .is_none()
    {
        assert!(Instant::now() < deadline, "the cache never came up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_entry_stored_by_one_instance_serves_the_other_and_a_mutation_on_one_drops_it_on_both() {
    let Some(redis) = polygate_kit::testing::server_url("POLYGATE_TEST_REDIS_URL") else {
        return;
    };
    let prefix = format!("{}:", polygate_kit::testing::unique_name("cache"));
    let a = instance(&redis, &prefix).await;
    let b = instance(&redis, &prefix).await;
    let (a_url, b_url) = (a.url("/graphql"), b.url("/graphql"));
    until_cached(&a_url).await;
    until_cached(&b_url).await;

    let (stored, body) = cache_status(&b_url, MUG).await;
    assert_eq!(stored.as_deref(), Some("miss"), "{body}");
    // The write to Redis happens beside the response: allow it a moment (generous: CI runs
    // this beside other test binaries on two cores; the bound proves delivery, not speed).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, from_a) = cache_status(&a_url, MUG).await;
        if status.as_deref() == Some("hit") {
            assert_eq!(from_a, body, "A serves B's entry from Redis");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "A never found B's entry in Redis"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(cache_status(&b_url, MUG).await.0.as_deref(), Some("hit"));

    let client = Client::new(a_url.clone());
    let bob = login_token(&client, "bob@example.com", DEMO_PASSWORD).await;
    let order = client
        .with_token(&bob)
        .query(
            "mutation($k: String!) {
                placeOrder(input: { items: [{ sku: \"MUG-01\", quantity: 1 }], idempotencyKey: $k }) {
                    id lines { product { sku } }
                }
            }",
            json!({ "k": polygate_kit::testing::unique_name("cache-shared-order") }),
        )
        .await;
    assert_eq!(order["errors"], Value::Null, "{order}");

    // Through A at once (its own invalidation is synchronous): a miss, read from A's store and
    // stored in L2 for everyone. B's L1 copy is dropped by the pub/sub message, so within the
    // delivery delay B serves the entry A stored after the write (its own store, which this
    // test does not write, still holds the old stock: equal bodies prove B's copy was dropped).
    let (status, fresh) = cache_status(&a_url, MUG).await;
    assert_eq!(status.as_deref(), Some("miss"));
    assert_ne!(fresh, body, "the order changed the mug's stock on A");
    let started = Instant::now();
    loop {
        let (_, from_b) = cache_status(&b_url, MUG).await;
        if from_b == fresh {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "B still served the dropped entry after 10 s: {from_b}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
