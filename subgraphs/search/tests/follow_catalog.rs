//! The catalog follower against a small in-test `ProductContentFeed` (a kit trait, not a
//! database): changes become documents `catalog:<SKU>`, deletions remove them, the cursor makes a
//! second round apply nothing and a restarted follower continue where it stopped.

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use polygate_kit::feeds::{ProductContentChange, ProductContentFeed};
use polygate_search::domain::DocumentId;
use polygate_search::follow::{CURSOR, follow_once};
use polygate_search::store::SearchStore as _;

#[derive(Default)]
struct Feed(Mutex<Vec<ProductContentChange>>);

impl Feed {
    fn push(&self, sku: &str, title: &str, text: Option<&str>, tags: &[&str]) {
        let mut changes = self.0.lock().unwrap();
        let position = changes.len() as u64 + 1;
        changes.push(ProductContentChange {
            position,
            sku: sku.into(),
            title: title.into(),
            text: text.map(String::from),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        });
    }
}

#[async_trait]
impl ProductContentFeed for Feed {
    async fn changes_after(
        &self,
        after: u64,
        limit: usize,
    ) -> anyhow::Result<Vec<ProductContentChange>> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.position > after)
            .take(limit)
            .cloned()
            .collect())
    }
}

#[tokio::test]
async fn product_changes_become_documents_and_the_cursor_moves_past_them() {
    let store = common::embedded_store().await;
    let (service, _) = common::service(store.clone(), Arc::new(common::WordsEmbedder));
    let feed = Feed::default();
    feed.push(
        "MUG-01",
        "Stoneware mug",
        Some("A mug for coffee."),
        &["kitchen", "home goods"],
    );
    feed.push("LAMP-01", "Desk lamp", Some("A lamp."), &["office"]);
    feed.push(
        "MUG-01",
        "Stoneware mug",
        Some("A bigger mug for coffee and tea."),
        &["kitchen"],
    );

    let round = follow_once(&service, &feed).await.unwrap();
    assert_eq!((round.applied, round.position), (3, 3));
    assert_eq!(service.store.cursor(CURSOR).await.unwrap(), 3);
    let mug = DocumentId::parse("catalog:MUG-01").unwrap();
    let docs = service
        .store
        .documents_by_ids(std::slice::from_ref(&mug))
        .await
        .unwrap();
    assert_eq!(docs[0].version, 2);
    assert_eq!(docs[0].body.as_str(), "A bigger mug for coffee and tea.");
    assert_eq!(docs[0].source.as_str(), "catalog");
    assert!(docs[0].is_indexed());
    assert_eq!(docs[0].product_sku(), Some("MUG-01"));

    let again = follow_once(&service, &feed).await.unwrap();
    assert_eq!(again.applied, 0, "nothing new after the cursor");

    feed.push("LAMP-01", "", None, &[]);
    feed.push("bad sku with spaces", "X", Some("x"), &[]);
    // A follower opened afresh on the same store continues from the stored cursor.
    let (restarted, _) = common::service(store.clone(), Arc::new(common::WordsEmbedder));
    let round = follow_once(&restarted, &feed).await.unwrap();
    assert_eq!((round.applied, round.skipped, round.position), (1, 1, 5));
    let lamp = DocumentId::parse("catalog:LAMP-01").unwrap();
    assert!(
        service
            .store
            .documents_by_ids(std::slice::from_ref(&lamp))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(service.store.chunks_of(&lamp).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_background_follower_picks_up_a_feed_provided_after_it_started() {
    let store = common::embedded_store().await;
    let (service, _) = common::service(store.clone(), Arc::new(common::WordsEmbedder));
    let capabilities = polygate_kit::Capabilities::default();
    let task = tokio::spawn(polygate_search::follow::run(
        service.clone(),
        capabilities.clone(),
        std::time::Duration::from_millis(10),
    ));
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let feed = Arc::new(Feed::default());
    feed.push("PEN-01", "Fountain pen", Some("A pen."), &["office"]);
    capabilities.provide::<dyn ProductContentFeed>(feed);
    polygate_kit::testing::until(
        "the follower applies the change",
        std::time::Duration::from_secs(5),
        async || store.cursor(CURSOR).await.unwrap() == 1,
    )
    .await;
    task.abort();
}
