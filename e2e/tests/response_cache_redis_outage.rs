//! The response cache through a Redis outage: two gateway instances share one real Redis as L2;
//! instance A reaches it through a relay the test cuts and restores (a network outage of Redis
//! for A), instance B directly.
//!
//! While A's Redis is gone, A's clients get correct uncached answers (no error), the L2 error
//! metric moves and the warning is logged. A mutation through A meanwhile cannot tell Redis:
//! its invalidation is parked and resent when Redis is back, so B drops its copy then rather
//! than at the entry's max age. After that, A caches again. Whether an answer came from the
//! cache, and why not, is read from `x-polygate-cache` and the `extensions.cache` summary.

use std::time::{Duration, Instant};

use polygate_e2e::gateway::{DEMO_PASSWORD, embedded_gateway_logging, login_token, temp_data_dir};
use polygate_e2e::graphql::Client;
use polygate_e2e::proxy::Relay;
use serde_json::{Value, json};

const MUG: &str = "{ product(sku: \"MUG-01\") { sku name available } }";

/// Generous bound for background work (CI runs this beside other binaries on two cores).
const PATIENCE: Duration = Duration::from_secs(15);

struct Answer {
    cache: Option<String>,
    body: Value,
}

impl Answer {
    fn summary(&self) -> &Value {
        &self.body["extensions"]["cache"]
    }
}

async fn ask(url: &str, query: &str) -> Answer {
    let response = reqwest::Client::new()
        .post(url)
        .header("x-polygate-cache-debug", "1")
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("gateway answers");
    let cache = response
        .headers()
        .get("x-polygate-cache")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Answer {
        cache,
        body: response.json().await.expect("JSON"),
    }
}

async fn instance(
    redis: &str,
    prefix: &str,
    log: Option<&std::path::Path>,
) -> polygate_e2e::process::Service {
    let config_dir = temp_data_dir("cache-outage");
    let file = config_dir.join("polygate.toml");
    std::fs::write(
        &file,
        format!(
            "[cache]\nenabled = true\nredis_url = \"{redis}\"\nredis_prefix = \"{prefix}\"\n\
             debug = \"everyone\"\n[cache.types.Product]\nmax_age_secs = 60\n"
        ),
    )
    .unwrap();
    let env = [
        ("POLYGATE_CONFIG", file.display().to_string()),
        // The resend's success is an info line.
        ("RUST_LOG", "warn,polygate=info".to_owned()),
    ];
    embedded_gateway_logging(&env, log).await.unwrap()
}

/// Asks `query` until `done` holds for the answer, or panics with `what` after `PATIENCE`.
async fn until(url: &str, query: &str, what: &str, done: impl Fn(&Answer) -> bool) -> Answer {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let answer = ask(url, query).await;
        if done(&answer) {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: last answer {}",
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn l2_errors(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("polygate_cache_events_total{"))
        .filter(|l| l.contains("event=\"error\"") && l.contains("level=\"l2\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

fn stock(answer: &Answer) -> i64 {
    answer.body["data"]["product"]["available"]
        .as_i64()
        .unwrap_or_else(|| panic!("a stock figure: {}", answer.body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_redis_outage_clients_get_uncached_answers_and_a_write_made_meanwhile_reaches_the_other_instance_after_it()
 {
    let Some(redis) = polygate_kit::testing::server_url("POLYGATE_TEST_REDIS_URL") else {
        return;
    };
    let upstream = redis
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let relay = Relay::start(&upstream).await.expect("relay starts");
    let prefix = format!("{}:", polygate_kit::testing::unique_name("cache-outage"));
    let log_dir = temp_data_dir("cache-outage-log");
    let log = log_dir.join("a.log");
    let a = instance(
        &format!("redis://{}/", relay.address()),
        &prefix,
        Some(&log),
    )
    .await;
    let b = instance(&redis, &prefix, None).await;
    let (a_url, b_url) = (a.url("/graphql"), b.url("/graphql"));
    let cached = |x: &Answer| x.cache.is_some();
    until(
        &a_url,
        "{ product(sku: \"LAMP-01\") { sku } }",
        "A's cache never came up",
        cached,
    )
    .await;
    until(
        &b_url,
        "{ product(sku: \"LAMP-01\") { sku } }",
        "B's cache never came up",
        cached,
    )
    .await;

    // B holds the mug in its L1 (and in Redis).
    let stored = ask(&b_url, MUG).await;
    assert_eq!(
        stored.summary()["status"],
        json!("store"),
        "{}",
        stored.body
    );
    let before = stock(&stored);
    assert_eq!(ask(&b_url, MUG).await.summary()["source"], json!("l1"));

    // Redis goes away for A.
    let errors_before = l2_errors(&polygate_e2e::metrics::fetch(&a.url("/metrics")).await);
    relay.cut();
    let uncached = until(&a_url, MUG, "A kept caching without Redis", |x| {
        x.cache.is_none() && x.summary()["status"] == json!("bypass")
    })
    .await;
    assert_eq!(uncached.body["errors"], Value::Null, "{}", uncached.body);
    assert_eq!(stock(&uncached), before, "a correct uncached answer");
    assert_eq!(uncached.summary()["status"], json!("bypass"));
    let metrics = polygate_e2e::metrics::fetch(&a.url("/metrics")).await;
    assert!(l2_errors(&metrics) > errors_before, "{metrics}");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("cache L2 (Redis) call failed; serving uncached"),
        "{logged}"
    );

    // A write through A while its Redis is gone.
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
            json!({ "k": polygate_kit::testing::unique_name("cache-outage-order") }),
        )
        .await;
    assert_eq!(order["errors"], Value::Null, "{order}");
    let deadline = Instant::now() + PATIENCE;
    while !std::fs::read_to_string(&log)
        .unwrap()
        .contains("cache invalidation did not reach Redis")
    {
        assert!(
            Instant::now() < deadline,
            "the undelivered invalidation was not logged"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // B cannot know yet: it still serves its copy (the window this test bounds).
    assert_eq!(ask(&b_url, MUG).await.summary()["source"], json!("l1"));

    // Redis is back for A: A caches again only once the parked invalidation went out (so it
    // never serves the pre-write entry), and B's next read finds its copy dropped. (A is asked
    // first: B's own embedded store never saw the order, so what B stores is no yardstick.)
    relay.restore();
    let fresh = until(&a_url, MUG, "A never cached again", |x| x.cache.is_some()).await;
    assert_eq!(fresh.body["errors"], Value::Null, "{}", fresh.body);
    assert_eq!(
        stock(&fresh),
        before - 1,
        "A never serves the pre-write entry: {}",
        fresh.body
    );
    // Within pub/sub delivery of the resent invalidation (far inside the 60 s max age).
    until(
        &b_url,
        MUG,
        "B still served its copy after Redis came back",
        |x| x.summary()["lookups"][0] == json!("l1:stale"),
    )
    .await;
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("parked cache invalidations reached Redis"),
        "{logged}"
    );
}
