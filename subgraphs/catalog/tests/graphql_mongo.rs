//! The GraphQL API over the MongoDB adapter (server at `POLYGATE_TEST_MONGODB_URL`, a fresh
//! database per test): the demo content reads and searches as on the embedded store, and
//! documents of schema version 1 and 2 coexist and read the same.

mod common;

use std::sync::Arc;

use polygate_catalog::store::document::legacy_v1_example;
use polygate_catalog::store::{CatalogStore, Collection, MongoStore};
use polygate_kit::testing::{server_url, unique_name};
use serde_json::json;

async fn mongo() -> Option<Arc<MongoStore>> {
    let url = server_url("POLYGATE_TEST_MONGODB_URL")?;
    let store = MongoStore::connect(&url, &unique_name("catalog_gql"), "primaryPreferred")
        .await
        .expect("connect");
    Some(Arc::new(store))
}

const PAGE: &str = r#"query($sku: String!) { catalogProduct(sku: $sku) {
    description brand categoryPath attributes { key value number unit }
    variants { options { name value } priceDeltaMinor stockHint }
    rating { count } reviews(first: 5) { nodes { title } } } }"#;

#[tokio::test]
async fn documents_of_version_1_and_2_coexist_and_read_the_same_on_mongodb() {
    let Some(store) = mongo().await else { return };
    let f = common::fixture_on(store.clone() as Arc<dyn CatalogStore>);
    let old = legacy_v1_example("OLD-MUG");
    let new =
        polygate_catalog::store::document::product_from_raw(legacy_v1_example("NEW-MUG")).unwrap();
    store
        .import_documents(Collection::Products, vec![old])
        .await
        .unwrap();
    store
        .upsert_content(new.content, common::start())
        .await
        .unwrap();
    let versions = store.documents_by_version().await.unwrap();
    assert_eq!(versions, [(1, 1), (2, 1)], "both versions are stored");

    let old_page = f.ok(PAGE, json!({"sku": "OLD-MUG"}), None).await;
    let new_page = f.ok(PAGE, json!({"sku": "NEW-MUG"}), None).await;
    assert_eq!(old_page, new_page, "version 1 and version 2 read the same");
    assert_eq!(
        old_page["catalogProduct"]["variants"][1]["priceDeltaMinor"],
        150
    );

    polygate_catalog::migrator::migrate_pass(store.as_ref(), 10).await;
    assert_eq!(store.documents_by_version().await.unwrap(), [(2, 2)]);
    assert_eq!(f.ok(PAGE, json!({"sku": "OLD-MUG"}), None).await, old_page);
    store.drop_database().await.unwrap();
}

#[tokio::test]
async fn the_demo_catalog_reads_and_searches_on_mongodb() {
    let Some(store) = mongo().await else { return };
    let f = common::fixture_on(store.clone() as Arc<dyn CatalogStore>);
    polygate_catalog::seed::seed_demo(store.as_ref())
        .await
        .unwrap();
    let mug = f.ok(PAGE, json!({"sku": "MUG-01"}), None).await;
    assert_eq!(mug["catalogProduct"]["rating"]["count"], 2);
    assert_eq!(
        mug["catalogProduct"]["variants"].as_array().unwrap().len(),
        2
    );
    let search = r#"{ catalogSearch(filters: [{key: "material", value: "steel"},
        {key: "capacity", op: GTE, value: "800"}]) { nodes { sku } } }"#;
    let data = f.ok(search, json!({}), None).await;
    assert_eq!(
        data["catalogSearch"]["nodes"],
        json!([{"sku": "KETTLE-01"}])
    );
    store.drop_database().await.unwrap();
}
