//! The subgraph opened through the kit's seam provides the search feed: every content change
//! and deletion appears on `ProductContentFeed`, in order, with searchable text and tags.

use std::sync::Arc;

use polygate_catalog::Catalog;
use polygate_kit::feeds::ProductContentFeed;
use polygate_kit::testing::unique_name;
use polygate_kit::{Capabilities, CapabilityId, OpenContext, Placement, Subgraph};

mod common;

#[tokio::test]
async fn every_content_change_and_deletion_appears_on_the_feed_in_order() {
    let capabilities = Capabilities::default();
    let data_dir = std::env::temp_dir().join(unique_name("polygate_catalog_feed"));
    std::fs::create_dir_all(&data_dir).unwrap();
    let opened = Catalog::open(
        &Default::default(),
        OpenContext {
            data_dir,
            placement: Placement::InProcess,
            capabilities: capabilities.clone(),
        },
    )
    .await
    .unwrap();
    let feed: Arc<dyn ProductContentFeed> = capabilities.get().expect("the feed is provided");
    let seeded = opened.seed.unwrap().seed().await.unwrap();
    assert!(seeded.created >= 8);

    let schema = opened.schema.unwrap();
    let run = |query: &'static str| {
        let schema = schema.clone();
        async move {
            let response = schema
                .execute(async_graphql::Request::new(query).data(common::staff()))
                .await;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
        }
    };
    run(r#"mutation { upsertVariant(sku: "PEN-01", variant: {sku: "PEN-01-B", options: [{name: "nib", value: "broad"}]}) { sku } }"#).await;
    run(r#"mutation { addReview(input: {sku: "PEN-01", rating: 5, title: "Not searchable"}) { id } }"#).await;
    run(r#"mutation { deleteProductContent(sku: "TENT-2P") }"#).await;

    let mut changes = Vec::new();
    let mut after = 0;
    loop {
        let batch = feed.changes_after(after, 4).await.unwrap();
        let Some(last) = batch.last() else { break };
        after = last.position;
        changes.extend(batch);
    }
    let order: Vec<(&str, bool)> = changes
        .iter()
        .map(|c| (c.sku.as_str(), c.text.is_some()))
        .collect();
    let mut want: Vec<(&str, bool)> = polygate_catalog::seed::demo_skus()
        .into_iter()
        .map(|s| (s, true))
        .collect();
    want.push(("PEN-01", true));
    want.push(("TENT-2P", false));
    assert_eq!(
        order, want,
        "seeded, the variant change, the deletion; not the review"
    );
    for pair in changes.windows(2) {
        assert!(pair[0].position < pair[1].position);
    }
    let pen = &changes[8];
    assert_eq!(pen.title, "Fountain pen");
    let text = pen.text.as_deref().unwrap();
    assert!(
        text.contains("brass") && text.contains("nib broad"),
        "{text}"
    );
    assert!(
        pen.tags.contains(&"category:writing".to_owned()),
        "{:?}",
        pen.tags
    );
    let tent = changes.last().unwrap();
    assert_eq!((tent.title.as_str(), tent.tags.len()), ("", 0));
}

#[tokio::test]
async fn a_catalog_served_elsewhere_is_opened_for_its_feed_only() {
    let settings = polygate_catalog::CatalogSettings::default();
    assert_eq!(
        Catalog::provides(),
        [CapabilityId::of::<dyn ProductContentFeed>()],
        "a process that needs the feed opens a remote catalog's store (the gateway refuses an \
         embedded one then: gateway/src/wiring.rs)"
    );

    let capabilities = Capabilities::default();
    let data_dir = std::env::temp_dir().join(unique_name("polygate_catalog_remote"));
    std::fs::create_dir_all(&data_dir).unwrap();
    let opened = Catalog::open(
        &settings,
        OpenContext {
            data_dir,
            placement: Placement::Remote,
            capabilities: capabilities.clone(),
        },
    )
    .await
    .unwrap();
    assert!(opened.schema.is_none() && opened.tasks.is_empty() && opened.seed.is_none());
    assert!(capabilities.get::<dyn ProductContentFeed>().is_some());
}
