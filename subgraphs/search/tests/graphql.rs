//! The GraphQL API over the embedded store: validation at the edge, staff-only writes, hits with
//! highlights and documents, products referenced from catalog documents, and the answer when no
//! model is installed.

mod common;

use std::sync::Arc;

use common::{codes, customer, fixture, fixture_with, json, staff};
use polygate_search::embed::MissingModel;
use serde_json::json;

const SEARCH: &str = "query($text: String!, $first: Int! = 10, $filter: SearchFilter) {
    search(text: $text, first: $first, filter: $filter) {
        score highlight chunkIndex
        document { id title source tags }
        product { sku }
    }
}";

const UPSERT: &str = "mutation($input: DocumentInput!) {
    upsertDocument(input: $input) { id version indexed createdAt updatedAt }
}";

#[tokio::test]
async fn bad_input_is_refused_with_bad_user_input() {
    let f = fixture().await;
    for (text, first) in [
        ("   ".to_owned(), 10),
        ("coffee".to_owned(), 51),
        ("coffee".to_owned(), 0),
        ("x".repeat(1025), 10),
    ] {
        let r = f
            .run(SEARCH, json!({"text": text, "first": first}), None)
            .await;
        assert_eq!(
            codes(&r),
            ["BAD_USER_INPUT"],
            "{text:.20} {first}: {:?}",
            r.errors
        );
    }
    let r = f
        .run(
            SEARCH,
            json!({"text": "coffee", "filter": {"after": "yesterday"}}),
            None,
        )
        .await;
    assert_eq!(codes(&r), ["BAD_USER_INPUT"]);
    let r = f
        .run(
            SEARCH,
            json!({"text": "coffee", "filter": {"tags": ["two words"]}}),
            None,
        )
        .await;
    assert_eq!(codes(&r), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn only_staff_may_write_documents() {
    let f = fixture().await;
    let input =
        json!({"input": {"id": "guides:x", "title": "X", "body": "text", "source": "guides"}});
    let r = f.run(UPSERT, input.clone(), None).await;
    assert_eq!(codes(&r), ["UNAUTHENTICATED"]);
    let r = f.run(UPSERT, input.clone(), Some(customer())).await;
    assert_eq!(codes(&r), ["FORBIDDEN"]);
    let r = f.run(UPSERT, input, Some(staff())).await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let r = f
        .run(
            "mutation { deleteDocument(id: \"guides:x\") }",
            json!({}),
            Some(customer()),
        )
        .await;
    assert_eq!(codes(&r), ["FORBIDDEN"]);
}

#[tokio::test]
async fn an_upserted_document_is_found_with_its_highlight_and_a_retry_keeps_its_version() {
    let f = fixture().await;
    let input = json!({"input": {
        "id": "guides:espresso", "title": "Pulling an espresso shot",
        "body": "Grind fine, dose eighteen grams and pull thirty six grams in thirty seconds.",
        "source": "guides", "tags": ["Coffee", "kitchen"]}});
    let r = f.run(UPSERT, input.clone(), Some(staff())).await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let doc = &json(&r)["upsertDocument"];
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["indexed"], true);
    assert_eq!(
        doc["createdAt"], "2026-01-01T00:00:00.000Z",
        "the clock given, not today's"
    );

    f.clock.advance(60_000);
    let again = f.run(UPSERT, input, Some(staff())).await;
    assert_eq!(
        json(&again)["upsertDocument"]["version"],
        1,
        "a retry is not a new version"
    );
    assert_eq!(
        json(&again)["upsertDocument"]["updatedAt"],
        "2026-01-01T00:00:00.000Z"
    );

    let r = f
        .run(SEARCH, json!({"text": "espresso grind dose"}), None)
        .await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let hit = &json(&r)["search"][0];
    assert_eq!(hit["document"]["id"], "guides:espresso");
    assert_eq!(hit["document"]["tags"], json!(["coffee", "kitchen"]));
    assert!(hit["highlight"].as_str().unwrap().starts_with("Grind fine"));
    assert_eq!(hit["chunkIndex"], 0);
    assert_eq!(hit["product"], serde_json::Value::Null);
    assert!(hit["score"].as_f64().unwrap() > 0.0);
}

#[tokio::test]
async fn catalog_hits_reference_their_product_by_sku_and_filters_apply() {
    let f = fixture().await;
    f.seed().await;
    let r = f
        .run(SEARCH, json!({"text": "stoneware mug coffee tea", "first": 3, "filter": {"source": "catalog"}}), None)
        .await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let hits = json(&r)["search"].as_array().unwrap().clone();
    assert_eq!(hits[0]["product"]["sku"], "MUG-01");
    assert!(hits.iter().all(|h| h["document"]["source"] == "catalog"));

    let r = f
        .run(
            SEARCH,
            json!({"text": "light", "first": 50, "filter": {"tags": ["outdoor"]}}),
            None,
        )
        .await;
    let hits = json(&r)["search"].as_array().unwrap().clone();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| {
        h["document"]["tags"]
            .as_array()
            .unwrap()
            .contains(&json!("outdoor"))
    }));

    // Everything was created at the fixture's start: nothing is strictly after it.
    let r = f
        .run(
            SEARCH,
            json!({"text": "mug", "filter": {"after": "2026-01-01T00:00:00Z"}}),
            None,
        )
        .await;
    assert_eq!(json(&r)["search"], json!([]));
    let r = f
        .run(
            SEARCH,
            json!({"text": "mug", "filter": {"after": "2025-12-31T23:59:59Z"}}),
            None,
        )
        .await;
    assert!(!json(&r)["search"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn similar_documents_exclude_the_document_itself_and_an_unknown_one_is_not_found() {
    let f = fixture().await;
    f.seed().await;
    let r = f
        .run(
            "{ similarDocuments(id: \"catalog:KETTLE-01\", first: 5) { document { id } } }",
            json!({}),
            None,
        )
        .await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let ids: Vec<String> = json(&r)["similarDocuments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["document"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 5);
    assert!(!ids.contains(&"catalog:KETTLE-01".to_owned()));
    let r = f
        .run(
            "{ similarDocuments(id: \"catalog:NOPE\") { score } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(codes(&r), ["NOT_FOUND"]);
}

#[tokio::test]
async fn a_deleted_document_is_no_longer_found() {
    let f = fixture().await;
    f.seed().await;
    let find = || {
        f.run(
            SEARCH,
            json!({"text": "tent backpacking", "first": 50}),
            None,
        )
    };
    let found = |r: async_graphql::Response| {
        json(&r)["search"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["document"]["id"] == "catalog:TENT-2P")
    };
    assert!(found(find().await));
    let r = f
        .run(
            "mutation { deleteDocument(id: \"catalog:TENT-2P\") }",
            json!({}),
            Some(staff()),
        )
        .await;
    assert_eq!(json(&r)["deleteDocument"], true);
    assert!(!found(find().await));
    let r = f
        .run(
            "{ document(id: \"catalog:TENT-2P\") { id } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(json(&r)["document"], serde_json::Value::Null);
}

#[tokio::test]
async fn without_a_model_search_says_how_to_install_it_and_writes_wait_as_pending() {
    let f = fixture_with(Arc::new(MissingModel::new(None))).await;
    let r = f.run(SEARCH, json!({"text": "coffee cup"}), None).await;
    assert_eq!(codes(&r), ["STORE_UNAVAILABLE"]);
    let message = &r.errors[0].message;
    assert!(
        message.contains("e2e/servers/embedding-model.sh install"),
        "{message}"
    );
    assert!(message.contains("model_dir"), "{message}");
    assert_eq!(json(&r), serde_json::Value::Null, "no rankings at all");

    let input =
        json!({"input": {"id": "guides:x", "title": "X", "body": "text", "source": "guides"}});
    let r = f.run(UPSERT, input, Some(staff())).await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(json(&r)["upsertDocument"]["indexed"], false);
    f.seed().await;
    let r = f
        .run(
            "{ searchStats { documents pending chunks model } }",
            json!({}),
            None,
        )
        .await;
    let stats = &json(&r)["searchStats"];
    assert_eq!(stats["chunks"], 0);
    assert_eq!(stats["pending"], stats["documents"]);
    assert_eq!(stats["model"], "none");
}

#[tokio::test]
async fn pending_documents_are_indexed_once_a_model_is_there() {
    let without = fixture_with(Arc::new(MissingModel::new(None))).await;
    without.seed().await;
    let store = without.service.store.clone();
    let (with_model, _) = common::service(store.clone(), Arc::new(common::WordsEmbedder));
    let indexed = with_model.index_pending(1000).await.unwrap();
    assert_eq!(indexed, polygate_search::seed::DEMO_DOCUMENTS.len());
    let stats = store.stats().await.unwrap();
    assert_eq!(stats.pending, 0);
    assert_eq!(stats.chunks, stats.documents);
}

#[tokio::test]
async fn entities_resolve_documents_by_id() {
    let f = fixture().await;
    f.seed().await;
    let r = f
        .run(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Document { id title product { sku } } } }",
            json!({"r": [{"__typename": "Document", "id": "catalog:PEN-01"}, {"__typename": "Document", "id": "guides:nope"}]}),
            None,
        )
        .await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(
        json(&r)["_entities"],
        json!([{"id": "catalog:PEN-01", "title": "Fountain pen", "product": {"sku": "PEN-01"}}, null])
    );
}
