//! The conformance suite on the MongoDB adapter, against the server at
//! `POLYGATE_TEST_MONGODB_URL` (nx-27017 from `e2e/servers/mongodb.sh`): a fresh database per
//! test, dropped afterwards. Skipped with a printed reason when the variable is unset (and
//! failing under CI).

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;
use polygate_catalog::store::conformance;
use polygate_catalog::store::{CatalogStore, MongoStore};
use polygate_kit::testing::{server_url, unique_name};

const URL_VAR: &str = "POLYGATE_TEST_MONGODB_URL";

/// Runs `check` on a store over a fresh database, then drops it (also when `check` panics).
async fn with_fresh_database<F, Fut>(check: F)
where
    F: FnOnce(MongoStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(url) = server_url(URL_VAR) else {
        return;
    };
    let name = unique_name("catalog");
    let store = MongoStore::connect(&url, &name, "primary")
        .await
        .expect("connect to the test MongoDB");
    let cleanup = MongoStore::connect(&url, &name, "primary").await.unwrap();
    let outcome = AssertUnwindSafe(check(store)).catch_unwind().await;
    cleanup
        .drop_database()
        .await
        .expect("drop the test database");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

macro_rules! on_mongo {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                with_fresh_database(|store| async move {
                    conformance::$check(&store as &dyn CatalogStore).await;
                })
                .await;
            }
        )*
    };
}

polygate_catalog::catalog_store_checks!(on_mongo);

#[tokio::test]
async fn a_dump_restored_into_an_empty_store_reads_the_same() {
    with_fresh_database(|source| async move {
        with_fresh_database(|target| async move {
            conformance::a_dump_restored_into_an_empty_store_reads_the_same(&source, &target).await;
        })
        .await;
    })
    .await;
}
