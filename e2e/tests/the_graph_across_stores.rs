//! One graph over six stores, through the embedded gateway and its demo data: each query below
//! joins subgraphs that meet only in the graph (entity keys), never in each other's code.

use polygate_e2e::gateway::{DEMO_PASSWORD, embedded_gateway, login_token};
use polygate_e2e::graphql::{Client, error_codes};
use serde_json::{Value, json};

/// The gateway with every subgraph embedded, and search given the real embedding model.
async fn gateway_with_the_model() -> Option<polygate_e2e::process::Service> {
    let model = polygate_kit::testing::server_url("POLYGATE_TEST_EMBEDDING_MODEL")?;
    Some(
        embedded_gateway(&[("POLYGATE_SUBGRAPHS__SEARCH__MODEL_DIR", model)])
            .await
            .unwrap(),
    )
}

#[tokio::test]
async fn a_product_page_joins_price_and_stock_from_commerce_with_content_from_catalog() {
    let gateway = embedded_gateway(&[]).await.unwrap();
    let client = Client::new(gateway.url("/graphql"));
    let page = client
        .query(
            "{ product(sku: \"KETTLE-01\") { name available price { amountMinor currency }
                 description variants { sku } rating { average count }
                 reviews(first: 2) { nodes { rating } } } }",
            json!({}),
        )
        .await;
    assert_eq!(page["errors"], Value::Null, "{page}");
    let product = &page["data"]["product"];
    assert_eq!(
        product["name"],
        json!("Gooseneck kettle"),
        "commerce: {page}"
    );
    assert_eq!(
        product["price"]["currency"],
        json!("USD"),
        "commerce: {page}"
    );
    assert!(
        product["available"].as_i64().unwrap() > 0,
        "commerce: {page}"
    );
    assert!(
        product["description"].as_str().unwrap().contains("kettle"),
        "catalog: {page}"
    );
    assert!(
        !product["variants"].as_array().unwrap().is_empty(),
        "catalog: {page}"
    );
    assert!(
        product["rating"]["count"].as_i64().unwrap() >= 1,
        "catalog: {page}"
    );
    assert!(
        !product["reviews"]["nodes"].as_array().unwrap().is_empty(),
        "catalog: {page}"
    );
}

#[tokio::test]
async fn a_signed_in_user_reads_their_place_in_the_org_and_their_sessions() {
    let gateway = embedded_gateway(&[]).await.unwrap();
    let client = Client::new(gateway.url("/graphql"));
    let token = login_token(&client, "bob@example.com", DEMO_PASSWORD).await;
    let me = client
        .with_token(&token)
        .query(
            "{ me { name employee { manager { name } reports { name } user { name } } sessions { current } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["errors"], Value::Null, "{me}");
    let me = &me["data"]["me"];
    assert_eq!(me["name"], json!("Bob Buyer"), "commerce");
    assert_eq!(
        me["employee"]["manager"]["name"],
        json!("Alice Admin"),
        "org"
    );
    assert!(
        !me["employee"]["reports"].as_array().unwrap().is_empty(),
        "org"
    );
    assert_eq!(
        me["employee"]["user"]["name"],
        json!("Bob Buyer"),
        "org → commerce by email"
    );
    assert_eq!(me["sessions"], json!([{ "current": true }]), "session");
}

#[tokio::test]
async fn a_department_lists_its_hosts_and_a_host_names_its_department() {
    let gateway = embedded_gateway(&[]).await.unwrap();
    let client = Client::new(gateway.url("/graphql"));
    let r = client
        .query(
            "{ department(id: \"platform\") { name hosts { hostname ownerDepartment { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(r["errors"], Value::Null, "{r}");
    let department = &r["data"]["department"];
    assert_eq!(department["name"], json!("Platform"), "org");
    let hosts = department["hosts"].as_array().unwrap();
    assert!(!hosts.is_empty(), "telemetry: {r}");
    for host in hosts {
        assert_eq!(host["ownerDepartment"]["name"], json!("Platform"), "{r}");
    }
}

#[tokio::test]
async fn a_search_by_meaning_finds_products_and_completes_them_from_commerce() {
    let Some(gateway) = gateway_with_the_model().await else {
        return;
    };
    let client = Client::new(gateway.url("/graphql"));
    let r = client
        .query(
            "{ search(text: \"something to drink coffee from\", first: 5) {
                 document { source } product { sku name price { amountMinor } } } }",
            json!({}),
        )
        .await;
    assert_eq!(r["errors"], Value::Null, "{r}");
    let hits = r["data"]["search"].as_array().unwrap();
    let skus: Vec<&str> = hits
        .iter()
        .filter_map(|h| h["product"]["sku"].as_str())
        .collect();
    let mug = skus.iter().position(|s| *s == "MUG-01");
    let tent = skus.iter().position(|s| *s == "TENT-2P");
    assert!(mug.is_some(), "the mug is among the hits: {r}");
    assert!(tent.is_none_or(|tent| mug < Some(tent)), "{r}");
    for hit in hits.iter().filter(|h| !h["product"].is_null()) {
        assert!(
            hit["product"]["price"]["amountMinor"].is_string(),
            "commerce: {r}"
        );
    }
}

#[tokio::test]
async fn a_query_the_schema_refuses_is_bad_user_input() {
    let gateway = embedded_gateway(&[]).await.unwrap();
    let client = Client::new(gateway.url("/graphql"));
    let r = client.query("{ nope }", json!({})).await;
    assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{r}");
    // The engine reports a required input field missing from an object literal without a
    // location; it is still the client's document that is wrong.
    let r = client
        .query(
            r#"mutation { restock(input: {sku: "MUG-01", warehouse: "BER-1", quantity: 1}) { sku } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&r), ["BAD_USER_INPUT"], "{r}");
}
