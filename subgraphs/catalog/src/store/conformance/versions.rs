//! Schema versions side by side, and dump/restore.

use super::*;
use crate::store::Collection;
use crate::store::document::legacy_v1_example;

/// A version-1 document (restored from an old dump) and a current one with the same content
/// read the same; the migrator rewrites the old one, after which it still reads the same.
pub async fn old_and_new_documents_read_the_same_and_the_migrator_rewrites_old_ones(
    store: &dyn CatalogStore,
) {
    let old_sku = unique_sku("OLD");
    let new_sku = unique_sku("NEW");
    let imported = store
        .import_documents(
            Collection::Products,
            vec![legacy_v1_example(old_sku.as_str())],
        )
        .await
        .unwrap();
    assert_eq!(imported, 1);
    let old = read(store, &old_sku).await.expect("the old document reads");
    assert_eq!(old.stored_version, 1);

    let mut same = old.content.clone();
    same.sku = new_sku.clone();
    for v in &mut same.variants {
        v.sku = Sku::parse(&v.sku.as_str().replace(old_sku.as_str(), new_sku.as_str())).unwrap();
    }
    let new = put(store, same).await;
    assert_eq!(new.stored_version, crate::store::document::CURRENT_VERSION);
    assert_eq!(new.content.attributes, old.content.attributes);
    assert_eq!(new.content.category_path, old.content.category_path);
    assert_eq!(new.content.list_price_minor, old.content.list_price_minor);
    assert_eq!(new.content.brand, old.content.brand);
    let options = |p: &CatalogProduct| -> Vec<_> {
        p.content
            .variants
            .iter()
            .map(|v| (v.options.clone(), v.price_delta_minor))
            .collect()
    };
    assert_eq!(options(&new), options(&old));

    let versions = store.documents_by_version().await.unwrap();
    assert!(
        versions.iter().any(|(v, n)| *v == 1 && *n >= 1),
        "{versions:?}"
    );
    let mut migrated = 0;
    for _ in 0..1_000 {
        let n = store.migrate_old_documents(50).await.unwrap();
        if n == 0 {
            break;
        }
        migrated += n;
    }
    assert!(migrated >= 1);
    let after = read(store, &old_sku).await.unwrap();
    assert_eq!(
        after.stored_version,
        crate::store::document::CURRENT_VERSION
    );
    assert_eq!(
        after.content, old.content,
        "migration changes the shape, not the content"
    );
    assert_eq!(after.revision, old.revision);
    let versions = store.documents_by_version().await.unwrap();
    assert!(versions.iter().all(|(v, _)| *v >= 2), "{versions:?}");
}

/// Everything exported from `source` and imported into an empty `target` reads the same there
/// (products with their embedded reviews, and the reviews collection).
pub async fn a_dump_restored_into_an_empty_store_reads_the_same(
    source: &dyn CatalogStore,
    target: &dyn CatalogStore,
) {
    let sku = unique_sku("DUMP");
    put(
        source,
        content(&sku, &[], Some(5), vec![text("k", "v")], vec![]),
    )
    .await;
    let review = crate::domain::NewReview::new(
        sku.clone(),
        crate::domain::UserRef("u".into()),
        4,
        "Kept",
        "",
        at(1),
    )
    .unwrap();
    source.add_review(review).await.unwrap();

    for collection in Collection::ALL {
        let mut after: Option<String> = None;
        for _ in 0..10_000 {
            let batch = source
                .export_documents(collection, after.as_deref(), 100)
                .await
                .unwrap();
            let Some(last) = batch.last() else { break };
            after = last.get("_id").and_then(|v| v.as_str()).map(str::to_owned);
            target.import_documents(collection, batch).await.unwrap();
        }
    }
    assert_eq!(read(target, &sku).await, read(source, &sku).await);
    assert_eq!(
        target.reviews(&sku, 10, None).await.unwrap(),
        source.reviews(&sku, 10, None).await.unwrap()
    );
}
