//! The conformance suite on the embedded adapter: a fresh SQLite file per test.

use std::sync::Arc;

use polygate_catalog::store::conformance;
use polygate_catalog::store::{CatalogStore, SqliteStore};
use polygate_kit::testing::unique_name;

async fn store() -> Arc<SqliteStore> {
    let path = std::env::temp_dir()
        .join(unique_name("polygate_catalog"))
        .join("catalog.db");
    Arc::new(SqliteStore::open(&path).await.expect("open sqlite store"))
}

macro_rules! on_sqlite {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let store = store().await;
                conformance::$check(store.as_ref() as &dyn CatalogStore).await;
            }
        )*
    };
}

polygate_catalog::catalog_store_checks!(on_sqlite);

#[tokio::test]
async fn a_dump_restored_into_an_empty_store_reads_the_same() {
    let (source, target) = (store().await, store().await);
    conformance::a_dump_restored_into_an_empty_store_reads_the_same(
        source.as_ref(),
        target.as_ref(),
    )
    .await;
}

#[tokio::test]
async fn the_store_reopens_with_its_data() {
    let path = std::env::temp_dir()
        .join(unique_name("polygate_catalog"))
        .join("catalog.db");
    let sku = conformance::unique_sku("REOPEN");
    {
        let store = SqliteStore::open(&path).await.unwrap();
        conformance::put(&store, conformance::plain(&sku)).await;
    }
    let store = SqliteStore::open(&path).await.unwrap();
    assert!(conformance::read(&store, &sku).await.is_some());
}
