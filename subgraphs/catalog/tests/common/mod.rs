//! Shared test fixtures: a fresh SQLite store, a fixed clock, and helpers to run GraphQL as
//! anyone, a signed-in user or staff, and to read error codes.

#![allow(dead_code)]

use std::sync::Arc;

use async_graphql::{Request, Response, Variables};
use polygate_catalog::clock::FixedClock;
use polygate_catalog::schema::{self, CatalogSchema};
use polygate_catalog::store::{CatalogStore, SqliteStore};
use polygate_kit::Viewer;
use polygate_kit::testing::unique_name;
use serde_json::Value;

/// A migrated SQLite store in a fresh file under the temp dir.
pub async fn sqlite_store() -> Arc<SqliteStore> {
    let path = std::env::temp_dir()
        .join(unique_name("polygate_catalog"))
        .join("catalog.db");
    Arc::new(SqliteStore::open(&path).await.expect("open sqlite store"))
}

pub struct Fixture {
    pub store: Arc<dyn CatalogStore>,
    pub clock: Arc<FixedClock>,
    pub schema: CatalogSchema,
}

/// 2026-03-15T12:00:00Z: the fixture's clock starts here.
pub fn start() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_773_576_000, 0).unwrap()
}

pub async fn fixture() -> Fixture {
    let store: Arc<dyn CatalogStore> = sqlite_store().await;
    fixture_on(store)
}

pub fn fixture_on(store: Arc<dyn CatalogStore>) -> Fixture {
    let clock = Arc::new(FixedClock::new(start()));
    let schema = schema::build(store.clone(), clock.clone());
    Fixture {
        store,
        clock,
        schema,
    }
}

/// A signed-in user with this id (not staff).
pub fn user(id: &str) -> Viewer {
    Viewer {
        user_id: id.into(),
        session_id: format!("s-{id}"),
        staff: false,
    }
}

pub fn staff() -> Viewer {
    Viewer {
        user_id: "1".into(),
        session_id: "s-staff".into(),
        staff: true,
    }
}

impl Fixture {
    pub async fn run(&self, query: &str, variables: Value, viewer: Option<Viewer>) -> Response {
        let mut request = Request::new(query).variables(Variables::from_json(variables));
        if let Some(viewer) = viewer {
            request = request.data(viewer);
        }
        self.schema.execute(request).await
    }

    /// Runs `query` and returns its data, failing on any error.
    pub async fn ok(&self, query: &str, variables: Value, viewer: Option<Viewer>) -> Value {
        let response = self.run(query, variables, viewer).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        json(&response)
    }

    /// Runs `query` and returns the `extensions.code` of its first error.
    pub async fn code(&self, query: &str, variables: Value, viewer: Option<Viewer>) -> String {
        let response = self.run(query, variables, viewer).await;
        error_code(&response)
    }
}

pub fn json(response: &Response) -> Value {
    serde_json::to_value(&response.data).unwrap()
}

pub fn error_code(response: &Response) -> String {
    let error = response.errors.first().expect("an error");
    let extensions = serde_json::to_value(&error.extensions).unwrap();
    extensions["code"].as_str().unwrap_or_default().to_owned()
}
