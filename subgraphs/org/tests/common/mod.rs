//! Shared test set-up: a fresh SQLite store per test, the test Neo4j server, and a schema over
//! either with a fixed clock.
#![allow(dead_code)]

use std::sync::Arc;

use polygate_kit::testing::{server_url, unique_name};
use polygate_org::clock::FixedClock;
use polygate_org::store::neo4j::Neo4jSettings;
use polygate_org::{Neo4jStore, OrgSchema, OrgStore, SqliteStore};

/// Where `e2e/servers/neo4j.sh` serves Bolt.
pub const NEO4J_URL_VAR: &str = "POLYGATE_TEST_NEO4J_URL";

/// A migrated SQLite store in a new file under the temp folder.
pub async fn sqlite_store() -> SqliteStore {
    let path = std::env::temp_dir()
        .join(unique_name("org_test"))
        .join("org.db");
    SqliteStore::open(&path).await.expect("open SQLite")
}

/// The test Neo4j server's store, or `None` (test skipped) when no server is configured.
pub async fn neo4j_store() -> Option<Neo4jStore> {
    let url = server_url(NEO4J_URL_VAR)?;
    Some(
        Neo4jStore::connect(&Neo4jSettings::local(&url))
            .await
            .expect("connect to the test Neo4j server"),
    )
}

/// The schema over `store`, dated 2024-03-15.
pub fn schema(store: Arc<dyn OrgStore>) -> OrgSchema {
    let day = chrono::NaiveDate::from_ymd_opt(2024, 3, 15).unwrap();
    polygate_org::schema(store, Arc::new(FixedClock(day)))
}

/// A request with a signed-in viewer (staff or not).
pub fn as_viewer(request: async_graphql::Request, staff: bool) -> async_graphql::Request {
    request.data(polygate_kit::Viewer {
        user_id: "1".into(),
        session_id: "s".into(),
        staff,
    })
}

/// The first error's `extensions.code`.
pub fn code(response: &async_graphql::Response) -> Option<String> {
    let error = response.errors.first()?;
    let value = error.extensions.as_ref()?.get("code")?;
    match value {
        async_graphql::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

pub fn json(response: &async_graphql::Response) -> serde_json::Value {
    serde_json::to_value(&response.data).unwrap()
}
