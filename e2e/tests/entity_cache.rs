//! The entity cache end to end: one `polygate serve` with `[cache] entities = true`, embedded
//! stores, demo data. `Product.brand` lives in the catalog subgraph, so every query below
//! fetches it with one `_entities` call to catalog carrying one representation per product.
//!
//! What reached the catalog is counted on `/metrics`: representations answered from the cache
//! (`polygate_cache_events_total{level="entity",event="hit"}`), forwarded
//! (`event="miss"`), and catalog calls (`polygate_subgraph_call_seconds_count`). The queries
//! differ in what they ask of commerce (so the whole-response cache never answers them) but not
//! in what they ask of catalog (the fetch's selection is part of the entity key).

use polygate_e2e::gateway::{DEMO_PASSWORD, embedded_gateway, login_token, temp_data_dir};
use polygate_e2e::graphql::Client;
use polygate_e2e::metrics::{fetch, histogram_count};
use serde_json::{Value, json};

const CACHE_ON: &str = r#"
[cache]
enabled = true
entities = true

[cache.types.Product]
max_age_secs = 60
[cache.types.ProductPage]
max_age_secs = 60
"#;

struct Counts {
    hits: u64,
    forwarded: u64,
    catalog_calls: u64,
}

fn counter(page: &str, labels: &[&str]) -> u64 {
    page.lines()
        .filter(|l| l.starts_with("polygate_cache_events_total{"))
        .filter(|l| labels.iter().all(|label| l.contains(label)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

async fn counts(gateway: &polygate_e2e::process::Service) -> Counts {
    let page = fetch(&gateway.url("/metrics")).await;
    let entity = |event: &str| {
        counter(
            &page,
            &[
                "level=\"entity\"",
                &format!("event=\"{event}\""),
                "type=\"Product\"",
            ],
        )
    };
    Counts {
        hits: entity("hit"),
        forwarded: entity("miss"),
        catalog_calls: histogram_count(
            &page,
            "polygate_subgraph_call_seconds",
            &[("subgraph", "catalog")],
        ),
    }
}

async fn query(client: &Client, text: &str) -> Value {
    let answer = client.query(text, json!({})).await;
    assert_eq!(answer["errors"], Value::Null, "{answer}");
    answer
}

fn brands(answer: &Value) -> Vec<(String, Value)> {
    answer["data"]["products"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            let brand = n
                .as_object()
                .unwrap()
                .iter()
                .find(|(field, _)| field.as_str() != "sku")
                .map(|(_, value)| value.clone())
                .unwrap();
            (n["sku"].as_str().unwrap().to_owned(), brand)
        })
        .collect()
}

#[tokio::test]
async fn a_list_whose_products_are_partly_cached_fetches_only_the_others_and_a_write_drops_one() {
    let config_dir = temp_data_dir("entity-cache");
    let file = config_dir.join("polygate.toml");
    std::fs::write(&file, CACHE_ON).unwrap();
    let gateway = embedded_gateway(&[("POLYGATE_CONFIG", file.display().to_string())])
        .await
        .unwrap();
    let client = Client::new(gateway.url("/graphql"));

    let start = counts(&gateway).await;
    let mug = query(&client, "{ product(sku: \"MUG-01\") { sku brand } }").await;
    let one = counts(&gateway).await;
    assert_eq!(one.forwarded - start.forwarded, 1);
    assert_eq!(one.hits - start.hits, 0);
    assert_eq!(one.catalog_calls - start.catalog_calls, 1);

    // Eight products, the mug among them: one answered, seven forwarded in one call.
    let all = query(&client, "{ products(first: 8) { nodes { sku brand } } }").await;
    let eight = counts(&gateway).await;
    let listed = brands(&all);
    assert_eq!(listed.len(), 8, "{all}");
    assert_eq!(eight.hits - one.hits, 1);
    assert_eq!(eight.forwarded - one.forwarded, 7);
    assert_eq!(eight.catalog_calls - one.catalog_calls, 1);
    let mug_in_list = listed.iter().find(|(sku, _)| sku == "MUG-01").unwrap();
    assert_eq!(mug_in_list.1, mug["data"]["product"]["brand"]);

    // All eight cached now: no catalog call at all, the same brands in the same order.
    let again = query(
        &client,
        "{ products(first: 8) { nodes { sku brand } hasNextPage } }",
    )
    .await;
    let cached = counts(&gateway).await;
    assert_eq!(brands(&again), listed);
    assert_eq!(cached.hits - eight.hits, 8);
    assert_eq!(cached.forwarded - eight.forwarded, 0);
    assert_eq!(cached.catalog_calls - eight.catalog_calls, 0);

    // An order for the mug drops its entity entry only.
    let bob = login_token(&client, "bob@example.com", DEMO_PASSWORD).await;
    let order = client
        .with_token(&bob)
        .query(
            "mutation($k: String!) {
                placeOrder(input: { items: [{ sku: \"MUG-01\", quantity: 1 }], idempotencyKey: $k }) {
                    id lines { product { sku } }
                }
            }",
            json!({ "k": polygate_kit::testing::unique_name("entity-order") }),
        )
        .await;
    assert_eq!(order["errors"], Value::Null, "{order}");
    let after = query(
        &client,
        "{ products(first: 8) { nodes { sku brand } endCursor } }",
    )
    .await;
    let dropped = counts(&gateway).await;
    assert_eq!(brands(&after), listed);
    assert_eq!(dropped.hits - cached.hits, 7);
    assert_eq!(dropped.forwarded - cached.forwarded, 1);
    assert_eq!(dropped.catalog_calls - cached.catalog_calls, 1);
}

#[tokio::test]
async fn with_entities_off_every_representation_is_forwarded() {
    let config_dir = temp_data_dir("entity-cache-off");
    let file = config_dir.join("polygate.toml");
    std::fs::write(
        &file,
        CACHE_ON.replace("entities = true", "entities = false"),
    )
    .unwrap();
    let gateway = embedded_gateway(&[("POLYGATE_CONFIG", file.display().to_string())])
        .await
        .unwrap();
    let client = Client::new(gateway.url("/graphql"));
    query(&client, "{ products(first: 8) { nodes { sku brand } } }").await;
    let before = counts(&gateway).await;
    query(
        &client,
        "{ products(first: 8) { nodes { sku brand } hasNextPage } }",
    )
    .await;
    let after = counts(&gateway).await;
    assert_eq!(after.catalog_calls - before.catalog_calls, 1);
    assert_eq!(after.hits, 0);
}

const ROOT_FIELDS: &str = r#"
[cache]
enabled = true
entities = true

[cache.types.Product]
max_age_secs = 60
[cache.types.User]
max_age_secs = 60
scope = "private"
"#;

fn commerce_calls(page: &str) -> u64 {
    histogram_count(
        page,
        "polygate_subgraph_call_seconds",
        &[("subgraph", "commerce")],
    )
}

/// Root fields are cached per subgraph fetch field: a second operation that asks commerce for
/// the same field (with other fields for another subgraph, so the whole-response cache cannot
/// answer it) costs no commerce call; private root fields stay per viewer; a write drops them.
#[tokio::test]
async fn a_root_field_cached_for_one_operation_answers_another_and_stays_per_viewer() {
    let config_dir = temp_data_dir("root-field-cache");
    let file = config_dir.join("polygate.toml");
    std::fs::write(&file, ROOT_FIELDS).unwrap();
    let gateway = embedded_gateway(&[("POLYGATE_CONFIG", file.display().to_string())])
        .await
        .unwrap();
    let client = Client::new(gateway.url("/graphql"));
    let alice = login_token(&client, "alice@example.com", DEMO_PASSWORD).await;
    let bob = login_token(&client, "bob@example.com", DEMO_PASSWORD).await;
    let calls = || async { commerce_calls(&fetch(&gateway.url("/metrics")).await) };

    let mug = "{ product(sku: \"MUG-01\") { sku name } }";
    let mug_and_pen = "{ product(sku: \"MUG-01\") { sku name } \
                       catalogProduct(sku: \"PEN-01\") { sku brand } }";
    let start = calls().await;
    let first = query(&client, mug).await;
    assert_eq!(calls().await - start, 1);
    let joined = query(&client, mug_and_pen).await;
    assert_eq!(joined["data"]["product"], first["data"]["product"]);
    assert_eq!(
        calls().await - start,
        1,
        "the mug's root field came from the cache"
    );
    // Other argument values are another key.
    let pen = query(&client, "{ product(sku: \"PEN-01\") { sku name } }").await;
    assert_eq!(pen["data"]["product"]["sku"], "PEN-01");
    assert_eq!(calls().await - start, 2);

    // Private root fields: each viewer's own, never another's.
    let me = "{ me { id email } }";
    let me_and_pen = "{ me { id email } catalogProduct(sku: \"PEN-01\") { sku } }";
    let before = calls().await;
    let alices = client.with_token(&alice).query(me, json!({})).await;
    assert_eq!(
        alices["data"]["me"]["email"], "alice@example.com",
        "{alices}"
    );
    let bobs = client.with_token(&bob).query(me_and_pen, json!({})).await;
    assert_eq!(bobs["data"]["me"]["email"], "bob@example.com", "{bobs}");
    assert_eq!(calls().await - before, 2, "bob's `me` is not alice's entry");
    let alices_again = client.with_token(&alice).query(me_and_pen, json!({})).await;
    assert_eq!(alices_again["data"]["me"], alices["data"]["me"]);
    assert_eq!(
        calls().await - before,
        2,
        "alice's `me` came from her entry"
    );

    // An order for the mug drops its root-field entry (and the whole response) on this level.
    let order = client
        .with_token(&bob)
        .query(
            "mutation($k: String!) {
                placeOrder(input: { items: [{ sku: \"MUG-01\", quantity: 1 }], idempotencyKey: $k }) {
                    id lines { product { sku } }
                }
            }",
            json!({ "k": polygate_kit::testing::unique_name("root-field-order") }),
        )
        .await;
    assert_eq!(order["errors"], Value::Null, "{order}");
    let after_write = calls().await;
    query(&client, mug_and_pen).await;
    assert_eq!(
        calls().await - after_write,
        1,
        "the mug's entry was dropped"
    );
}
