//! The catalog's GraphQL API over the embedded store: reads of seeded content, search, reviews
//! and the staff mutations, with the error codes each refusal carries.

mod common;

use common::{fixture, staff, user};
use polygate_catalog::seed::seed_demo;
use polygate_catalog::store::Collection;
use polygate_catalog::store::document::legacy_v1_example;
use serde_json::json;

const PRODUCT: &str = r#"query($sku: String!) { catalogProduct(sku: $sku) {
    sku description brand categoryPath
    attributes { key value number unit }
    variants { sku options { name value } priceDeltaMinor stockHint }
    rating { count average histogram }
    reviews(first: 2) { nodes { title rating author { id } } hasNextPage endCursor }
} }"#;

#[tokio::test]
async fn seeded_demo_products_read_with_variants_attributes_and_reviews() {
    let f = fixture().await;
    let first = seed_demo(f.store.as_ref()).await.unwrap();
    assert!(first.created >= 8);
    assert_eq!(
        seed_demo(f.store.as_ref()).await.unwrap().created,
        0,
        "idempotent"
    );

    let data = f.ok(PRODUCT, json!({"sku": "MUG-01"}), None).await;
    let mug = &data["catalogProduct"];
    assert_eq!(mug["categoryPath"], json!(["kitchen", "drinkware"]));
    assert_eq!(mug["variants"].as_array().unwrap().len(), 2);
    assert!(
        mug["attributes"]
            .as_array()
            .unwrap()
            .contains(&json!({"key": "capacity", "value": "350", "number": 350.0, "unit": "ml"}))
    );
    assert_eq!(mug["rating"]["count"], 2);
    assert_eq!(mug["rating"]["histogram"], json!([0, 0, 0, 1, 1]));
    assert_eq!(
        mug["reviews"]["nodes"][0]["author"],
        json!(null),
        "demo reviewers are not users"
    );
    assert_eq!(mug["reviews"]["hasNextPage"], false);

    let data = f.ok(PRODUCT, json!({"sku": "NOSUCH-1"}), None).await;
    assert_eq!(
        data["catalogProduct"]["description"], "",
        "no content reads as empty"
    );
}

#[tokio::test]
async fn catalog_search_combines_category_attribute_filters_and_price() {
    let f = fixture().await;
    seed_demo(f.store.as_ref()).await.unwrap();
    let search = r#"query($f: [AttributeFilterInput!], $c: String, $p: PriceRangeInput, $t: String) {
        catalogSearch(filters: $f, category: $c, priceRange: $p, text: $t, first: 10) {
            nodes { sku } hasNextPage endCursor } }"#;
    let skus = |data: serde_json::Value| -> Vec<String> {
        data["catalogSearch"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["sku"].as_str().unwrap().to_owned())
            .collect()
    };
    let two_filters = json!({"f": [
        {"key": "material", "value": "steel"},
        {"key": "capacity", "op": "GTE", "value": "800"}
    ]});
    assert_eq!(skus(f.ok(search, two_filters, None).await), ["KETTLE-01"]);
    let drinkware = json!({"c": "drinkware", "p": {"maxMinor": 2000}});
    assert_eq!(skus(f.ok(search, drinkware, None).await), ["MUG-01"]);
    let outdoor = json!({"c": "outdoor"});
    assert_eq!(
        skus(f.ok(search, outdoor, None).await),
        ["BOTTLE-01", "TENT-2P"]
    );
    let text = json!({"t": "pour-over"});
    assert_eq!(skus(f.ok(search, text, None).await), ["KETTLE-01"]);

    let bad = json!({"f": [{"key": "capacity", "op": "GT", "value": "large"}]});
    assert_eq!(f.code(search, bad, None).await, "BAD_USER_INPUT");
    let page = f
        .code(
            "{ catalogSearch(first: 0) { nodes { sku } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(page, "BAD_USER_INPUT");
}

#[tokio::test]
async fn search_pages_through_every_product_once() {
    let f = fixture().await;
    seed_demo(f.store.as_ref()).await.unwrap();
    let mut after: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let data = f
            .ok(
                "query($a: String) { catalogSearch(first: 3, after: $a) { nodes { sku } hasNextPage endCursor } }",
                json!({"a": after}),
                None,
            )
            .await;
        let page = &data["catalogSearch"];
        for node in page["nodes"].as_array().unwrap() {
            seen.push(node["sku"].as_str().unwrap().to_owned());
        }
        if page["hasNextPage"] == false {
            break;
        }
        after = page["endCursor"].as_str().map(str::to_owned);
    }
    let mut want: Vec<String> = polygate_catalog::seed::demo_skus()
        .into_iter()
        .map(str::to_owned)
        .collect();
    want.sort();
    assert_eq!(seen, want);
}

const ADD_REVIEW: &str = r#"mutation($i: AddReviewInput!) { addReview(input: $i) {
    id rating title createdAt author { id } } }"#;

#[tokio::test]
async fn reviews_need_a_signed_in_user_and_valid_input_and_come_one_per_user() {
    let f = fixture().await;
    seed_demo(f.store.as_ref()).await.unwrap();
    let input = |rating: i32, title: &str| json!({"i": {"sku": "LAMP-01", "rating": rating, "title": title, "body": "Bright."}});
    assert_eq!(
        f.code(ADD_REVIEW, input(5, "Good"), None).await,
        "UNAUTHENTICATED"
    );
    let bob = Some(user("42"));
    assert_eq!(
        f.code(ADD_REVIEW, input(6, "Good"), bob.clone()).await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        f.code(ADD_REVIEW, input(0, "Good"), bob.clone()).await,
        "BAD_USER_INPUT"
    );
    let long = "x".repeat(121);
    assert_eq!(
        f.code(ADD_REVIEW, input(4, &long), bob.clone()).await,
        "BAD_USER_INPUT"
    );
    let unknown = json!({"i": {"sku": "NOSUCH-1", "rating": 3, "title": "?"}});
    assert_eq!(f.code(ADD_REVIEW, unknown, bob.clone()).await, "NOT_FOUND");

    let added = f.ok(ADD_REVIEW, input(5, "Good"), bob.clone()).await;
    assert_eq!(added["addReview"]["author"]["id"], "42");
    assert_eq!(added["addReview"]["createdAt"], "2026-03-15T12:00:00.000Z");
    f.clock.advance(chrono::Duration::seconds(30));
    let retried = f.ok(ADD_REVIEW, input(5, "Good"), bob.clone()).await;
    assert_eq!(retried, added, "a retry returns the first review");
    assert_eq!(f.code(ADD_REVIEW, input(1, "Bad"), bob).await, "CONFLICT");

    let data = f.ok(PRODUCT, json!({"sku": "LAMP-01"}), None).await;
    assert_eq!(data["catalogProduct"]["rating"]["count"], 2);
    assert_eq!(
        data["catalogProduct"]["reviews"]["nodes"][0]["title"],
        "Good"
    );
}

#[tokio::test]
async fn review_pages_continue_past_the_embedded_latest_reviews() {
    let f = fixture().await;
    seed_demo(f.store.as_ref()).await.unwrap();
    for n in 0..7 {
        f.clock.advance(chrono::Duration::minutes(1));
        let input = json!({"i": {"sku": "TENT-2P", "rating": 4, "title": format!("Review {n}")}});
        f.ok(ADD_REVIEW, input, Some(user(&format!("{}", 100 + n))))
            .await;
    }
    let query = r#"query($a: String) { catalogProduct(sku: "TENT-2P") {
        reviews(first: 3, after: $a) { nodes { title } hasNextPage endCursor } } }"#;
    let mut titles = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..5 {
        let data = f.ok(query, json!({"a": after}), None).await;
        let page = &data["catalogProduct"]["reviews"];
        for node in page["nodes"].as_array().unwrap() {
            titles.push(node["title"].as_str().unwrap().to_owned());
        }
        if page["hasNextPage"] == false {
            break;
        }
        after = page["endCursor"].as_str().map(str::to_owned);
    }
    let mut want: Vec<String> = (0..7).rev().map(|n| format!("Review {n}")).collect();
    want.push("Pitches in minutes".into());
    assert_eq!(titles, want);
}

const UPSERT: &str = r#"mutation($i: ProductContentInput!) { upsertProductContent(input: $i) {
    sku description variants { sku } attributes { key value } } }"#;

#[tokio::test]
async fn only_staff_edit_content_and_variant_skus_stay_unique() {
    let f = fixture().await;
    seed_demo(f.store.as_ref()).await.unwrap();
    let input = json!({"i": {
        "sku": "CUP-9", "name": "Espresso cup", "description": "A tiny cup.",
        "categoryPath": ["kitchen"], "listPriceMinor": 900,
        "attributes": [{"key": "capacity", "number": 90, "unit": "ml"}],
        "variants": [{"sku": "CUP-9-RED", "options": [{"name": "colour", "value": "red"}]}]
    }});
    assert_eq!(f.code(UPSERT, input.clone(), None).await, "UNAUTHENTICATED");
    assert_eq!(
        f.code(UPSERT, input.clone(), Some(user("7"))).await,
        "FORBIDDEN"
    );
    let data = f.ok(UPSERT, input, Some(staff())).await;
    assert_eq!(
        data["upsertProductContent"]["variants"],
        json!([{"sku": "CUP-9-RED"}])
    );

    let taken = json!({"i": {"sku": "CUP-10", "name": "Cup",
        "variants": [{"sku": "MUG-01-BLU"}]}});
    assert_eq!(f.code(UPSERT, taken, Some(staff())).await, "CONFLICT");
    let both = json!({"i": {"sku": "CUP-11", "name": "Cup",
        "attributes": [{"key": "capacity", "number": 1, "text": "one"}]}});
    assert_eq!(f.code(UPSERT, both, Some(staff())).await, "BAD_USER_INPUT");

    let variant = r#"mutation { upsertVariant(sku: "CUP-9", variant: {sku: "CUP-9-BLU", stockHint: 4}) { variants { sku stockHint } } }"#;
    let data = f.ok(variant, json!({}), Some(staff())).await;
    assert_eq!(
        data["upsertVariant"]["variants"][1],
        json!({"sku": "CUP-9-BLU", "stockHint": 4})
    );
    let remove =
        r#"mutation { removeVariant(sku: "CUP-9", variantSku: "CUP-9-RED") { variants { sku } } }"#;
    let data = f.ok(remove, json!({}), Some(staff())).await;
    assert_eq!(
        data["removeVariant"]["variants"],
        json!([{"sku": "CUP-9-BLU"}])
    );
    assert_eq!(f.code(remove, json!({}), Some(staff())).await, "NOT_FOUND");
    let rename = r#"mutation { renameBrand(from: "Trailhead", to: "Trailhead Outdoor") }"#;
    assert_eq!(
        f.code(rename, json!({}), Some(user("7"))).await,
        "FORBIDDEN"
    );
    assert_eq!(
        f.ok(rename, json!({}), Some(staff())).await["renameBrand"],
        2
    );
    let tent = f.ok(PRODUCT, json!({"sku": "TENT-2P"}), None).await;
    assert_eq!(tent["catalogProduct"]["brand"], "Trailhead Outdoor");
    let delete = r#"mutation { deleteProductContent(sku: "CUP-9") }"#;
    assert_eq!(
        f.ok(delete, json!({}), Some(staff())).await["deleteProductContent"],
        true
    );
}

#[tokio::test]
async fn documents_of_the_old_and_the_current_version_read_the_same_through_graphql() {
    let f = fixture().await;
    f.store
        .import_documents(Collection::Products, vec![legacy_v1_example("OLD-MUG")])
        .await
        .unwrap();
    let old = f.ok(PRODUCT, json!({"sku": "OLD-MUG"}), None).await;

    // The same content written by the current code (its variant SKUs renamed).
    let renamed = serde_json::to_string(&legacy_v1_example("NEW-MUG")).unwrap();
    f.store
        .import_documents(
            Collection::Products,
            vec![serde_json::from_str(&renamed).unwrap()],
        )
        .await
        .unwrap();
    polygate_catalog::migrator::migrate_pass(f.store.as_ref(), 10).await;
    let versions = f.store.documents_by_version().await.unwrap();
    assert_eq!(versions, [(2, 2)], "the migrator rewrote both");
    f.store
        .import_documents(Collection::Products, vec![legacy_v1_example("OLD-MUG")])
        .await
        .unwrap();
    assert_eq!(
        f.store.documents_by_version().await.unwrap(),
        [(1, 1), (2, 1)]
    );

    let old_again = f.ok(PRODUCT, json!({"sku": "OLD-MUG"}), None).await;
    let new = f.ok(PRODUCT, json!({"sku": "NEW-MUG"}), None).await;
    assert_eq!(old_again, old);
    let strip = |mut v: serde_json::Value| {
        let text = v
            .to_string()
            .replace("NEW-MUG", "X")
            .replace("OLD-MUG", "X");
        v = serde_json::from_str(&text).unwrap();
        v
    };
    assert_eq!(
        strip(old),
        strip(new),
        "version 1 and version 2 read the same"
    );
}
