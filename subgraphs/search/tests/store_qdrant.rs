//! The store conformance checks on a real Qdrant, each under a fresh collection prefix, plus
//! what only the Qdrant adapter does (collection layout, snapshots).
//!
//! No package registry ships a Qdrant server, so these run only when `POLYGATE_TEST_QDRANT_URL`
//! names one (its gRPC port, e.g. `http://127.0.0.1:6334`); otherwise each test prints why it
//! is skipped, under CI too, and the test command lists the skip with its reason (see
//! subgraphs/search/README.md, "Running Qdrant here").

use std::time::Duration;

use polygate_search::store::{QdrantLayout, QdrantStore, SearchStore, conformance};

const VAR: &str = "POLYGATE_TEST_QDRANT_URL";

fn qdrant_url() -> Option<String> {
    polygate_kit::testing::optional_server_url(
        VAR,
        "no registry ships a Qdrant server, so the Qdrant adapter's tests run only against one \
         built from source (subgraphs/search/README.md, \"Running Qdrant here\")",
    )
}

async fn fresh(url: &str) -> QdrantStore {
    let prefix = format!(
        "{}_",
        polygate_kit::testing::unique_name("t").to_lowercase()
    );
    QdrantStore::connect(
        url,
        None,
        &prefix,
        QdrantLayout::default(),
        Duration::from_secs(30),
        "chunks_initial",
        &conformance::spec(),
    )
    .await
    .expect("connect to the test Qdrant")
}

macro_rules! on_qdrant {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let Some(url) = qdrant_url() else { return };
                let store = fresh(&url).await;
                conformance::$check(&store).await;
                store.delete_everything().await.expect("clean up");
            }
        )*
    };
}

polygate_search::search_store_checks!(on_qdrant);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_passes_on_one_shared_store() {
    let Some(url) = qdrant_url() else { return };
    let store = fresh(&url).await;
    macro_rules! all {
        ($($check:ident),* $(,)?) => { $( conformance::$check(&store).await; )* };
    }
    polygate_search::search_store_checks!(all);
    store.delete_everything().await.expect("clean up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_names_a_server_snapshot_of_each_collection() {
    let Some(url) = qdrant_url() else { return };
    let store = fresh(&url).await;
    let s = conformance::Scope::new("snap");
    conformance::put_indexed(&store, &s.doc("a", "guides", &[], 5), "snap", 1, 5).await;
    let dest = std::env::temp_dir().join(polygate_kit::testing::unique_name("qdrant_snap"));
    store.snapshot(&dest).await.expect("snapshot");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dest.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["snapshots"].as_array().unwrap().len(), 2);
    store.delete_everything().await.expect("clean up");
}
