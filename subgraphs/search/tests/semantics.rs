//! The real all-MiniLM-L6-v2 (from `POLYGATE_TEST_EMBEDDING_MODEL`, the folder
//! `e2e/servers/embedding-model.sh install` prints) ranks by meaning.

mod common;

use std::sync::Arc;

use polygate_search::embed::{self, BatchModel, Embedder, EmbeddingQueue, MiniLm, dot};
use serde_json::json;

fn model() -> Option<MiniLm> {
    let dir = polygate_kit::testing::server_url("POLYGATE_TEST_EMBEDDING_MODEL")?;
    Some(MiniLm::load(std::path::Path::new(&dir)).expect("the model folder loads"))
}

#[test]
fn vectors_have_384_unit_length_components_and_paraphrases_are_closest() {
    let Some(model) = model() else { return };
    let texts: Vec<String> = [
        "A man is playing a guitar.",
        "Someone is playing a musical instrument.",
        "The stock market fell sharply today.",
    ]
    .map(String::from)
    .to_vec();
    let v = model.embed_batch(&texts).unwrap();
    assert!(v.iter().all(|x| x.len() == embed::DIMENSIONS));
    assert!(v.iter().all(|x| (dot(x, x) - 1.0).abs() < 1e-4));
    let paraphrase = dot(&v[0], &v[1]);
    let unrelated = dot(&v[0], &v[2]);
    assert!(
        paraphrase > 0.4 && unrelated < 0.2,
        "{paraphrase} vs {unrelated}"
    );
}

#[test]
fn a_text_embeds_the_same_alone_and_padded_in_a_batch() {
    let Some(model) = model() else { return };
    let short = "coffee cup".to_owned();
    let alone = model.embed_batch(std::slice::from_ref(&short)).unwrap();
    let batch = model
        .embed_batch(&[
            short,
            "a much longer sentence that forces padding of the short one".into(),
        ])
        .unwrap();
    assert!(
        dot(&alone[0], &batch[0]) > 0.9999,
        "padding must not change a vector"
    );
}

#[tokio::test]
async fn a_query_about_a_coffee_cup_ranks_the_mug_above_the_keyboard() {
    let Some(model) = model() else { return };
    let f = common::fixture_with(Arc::new(EmbeddingQueue::start(model))).await;
    f.seed().await;
    let r = f
        .run(
            "{ search(text: \"coffee cup\", first: 20) { score document { id } } }",
            json!({}),
            None,
        )
        .await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let ids: Vec<String> = common::json(&r)["search"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["document"]["id"].as_str().unwrap().to_owned())
        .collect();
    let rank = |id: &str| ids.iter().position(|x| x == id).unwrap_or(usize::MAX);
    assert!(rank("catalog:MUG-01") < rank("guides:keyboard"), "{ids:?}");
    assert!(
        rank("catalog:MUG-01") < 3,
        "the mug is near the top: {ids:?}"
    );
}

#[tokio::test]
async fn words_that_never_appear_in_a_document_still_find_it_by_meaning() {
    let Some(model) = model() else { return };
    let f = common::fixture_with(Arc::new(EmbeddingQueue::start(model))).await;
    f.seed().await;
    // None of these words is in the tent's title or text ("A light three-season tent for two
    // people with a waterproof fly, aluminium poles and two doors; ...").
    let r = f
        .run(
            "{ search(text: \"shelter for sleeping outdoors overnight\", first: 3, filter: {source: \"catalog\"}) { document { id } } }",
            json!({}),
            None,
        )
        .await;
    let first = common::json(&r)["search"][0]["document"]["id"].clone();
    assert_eq!(first, "catalog:TENT-2P", "{:?}", common::json(&r));
}

#[tokio::test]
async fn the_queue_embeds_like_the_model_itself() {
    let Some(model) = model() else { return };
    let direct = model.embed_batch(&["desk lamp".to_owned()]).unwrap();
    let queue = EmbeddingQueue::start(model);
    let queued = queue.embed(vec!["desk lamp".to_owned()]).await.unwrap();
    assert!(dot(&direct[0], &queued[0]) > 0.9999);
    assert_eq!(queue.model(), embed::MODEL_NAME);
}
