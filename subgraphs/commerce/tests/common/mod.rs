//! Shared test fixtures: a fresh SQLite store, an in-memory session issuer (a double of our own
//! port, not of a database), and helpers to run GraphQL and read error codes.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::{Request, Response, Value, Variables};
use async_trait::async_trait;
use polygate_commerce::{CommerceSchema, CommerceStore, PasswordHasher, SqliteStore};
use polygate_kit::Viewer;
use polygate_kit::auth::{IssuedSession, SessionIssuer, SessionStoreUnavailable};
use polygate_kit::testing::unique_name;

/// A migrated SQLite store in a fresh file under the temp dir.
pub async fn sqlite_store() -> Arc<SqliteStore> {
    let path = std::env::temp_dir()
        .join(unique_name("polygate_commerce"))
        .join("commerce.db");
    Arc::new(SqliteStore::open(&path).await.expect("open sqlite store"))
}

/// Issues `token-N` and remembers which tokens are live.
#[derive(Default)]
pub struct TestIssuer {
    live: Mutex<HashMap<String, (String, bool)>>,
}

impl TestIssuer {
    pub fn session_of(&self, token: &str) -> Option<(String, bool)> {
        self.live.lock().unwrap().get(token).cloned()
    }
}

#[async_trait]
impl SessionIssuer for TestIssuer {
    async fn issue(
        &self,
        user_id: &str,
        staff: bool,
    ) -> Result<IssuedSession, SessionStoreUnavailable> {
        let mut live = self.live.lock().unwrap();
        let token = format!("token-{}", live.len() + 1);
        live.insert(token.clone(), (user_id.to_owned(), staff));
        Ok(IssuedSession {
            token: token.clone(),
            session_id: format!("session-{token}"),
            expires_at_unix: 4_102_444_800,
        })
    }

    async fn revoke_token(&self, token: &str) -> Result<bool, SessionStoreUnavailable> {
        Ok(self.live.lock().unwrap().remove(token).is_some())
    }
}

pub struct Fixture {
    pub store: Arc<dyn CommerceStore>,
    pub issuer: Arc<TestIssuer>,
    pub schema: CommerceSchema,
}

pub async fn fixture() -> Fixture {
    let store: Arc<dyn CommerceStore> = sqlite_store().await;
    let issuer = Arc::new(TestIssuer::default());
    let schema = polygate_commerce::schema(
        store.clone(),
        Some(issuer.clone()),
        PasswordHasher::insecure_fast_for_tests(),
    );
    Fixture {
        store,
        issuer,
        schema,
    }
}

impl Fixture {
    /// Runs `query` with JSON `variables`, as `viewer` when given.
    pub async fn run(
        &self,
        query: &str,
        variables: serde_json::Value,
        viewer: Option<Viewer>,
    ) -> Response {
        let mut request = Request::new(query).variables(Variables::from_json(variables));
        if let Some(viewer) = viewer {
            request = request.data(viewer);
        }
        self.schema.execute(request).await
    }

    /// Registers a user through the schema and returns its id.
    pub async fn register(&self, email: &str, password: &str, name: &str) -> String {
        let response = self
            .run(
                "mutation($i: RegisterInput!) { register(input: $i) { id } }",
                serde_json::json!({"i": {"email": email, "password": password, "name": name}}),
                None,
            )
            .await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        json(&response)["register"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// Adds an address (Berlin) to `viewer`'s book through the schema; returns its id.
pub async fn add_address(f: &Fixture, viewer: &Viewer) -> String {
    let response = f
        .run(
            "mutation($i: AddressInput!) { addAddress(input: $i) { id } }",
            serde_json::json!({"i": {"label": "Home", "recipient": "Test Buyer",
                                     "line1": "Torstraße 1", "city": "Berlin",
                                     "postalCode": "10119", "country": "DE"}}),
            Some(viewer.clone()),
        )
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    json(&response)["addAddress"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub fn viewer(user_id: &str, staff: bool) -> Viewer {
    Viewer {
        user_id: user_id.to_owned(),
        session_id: "s1".to_owned(),
        staff,
    }
}

pub fn json(response: &Response) -> serde_json::Value {
    response.data.clone().into_json().unwrap()
}

/// The `extensions.code` of every error, in order.
pub fn codes(response: &Response) -> Vec<String> {
    response
        .errors
        .iter()
        .map(|e| {
            let code = e.extensions.as_ref().and_then(|x| x.get("code")).cloned();
            match code {
                Some(Value::String(code)) => code,
                other => format!("{other:?}"),
            }
        })
        .collect()
}

/// The clocks the partition and query-plan tests run at: early on the 1st (just after a month
/// boundary, with February's short month behind it), mid-month, and late on the last day of a
/// 31-day month. Fixed instants, so no outcome depends on the day or hour the suite runs.
pub const MONTH_CLOCKS: [(&str, &str); 3] = [
    ("the 1st", "2026-03-01T00:30:00Z"),
    ("the 15th", "2026-07-15T12:00:00Z"),
    ("the last day", "2026-10-31T23:30:00Z"),
];

/// `MONTH_CLOCKS` parsed.
pub fn month_clocks() -> Vec<(&'static str, chrono::DateTime<chrono::Utc>)> {
    MONTH_CLOCKS
        .iter()
        .map(|(day, at)| (*day, at.parse().expect("an RFC 3339 instant")))
        .collect()
}

/// Removes every monthly partition of orders and order_items (the migration made them around the
/// real date) and makes the months around `as_of` instead, as the maintenance routine would have
/// on that day: the current month and `premake` ahead. The DEFAULT partitions stay.
pub async fn partitions_as_of(
    pool: &sqlx::PgPool,
    as_of: chrono::DateTime<chrono::Utc>,
    premake: i32,
) {
    let detached: Vec<String> = sqlx::query_scalar(
        "SELECT partition_name FROM commerce_detach_partitions_before('infinity')",
    )
    .fetch_all(pool)
    .await
    .expect("detach the migration's partitions");
    for table in detached {
        sqlx::query(&format!("DROP TABLE {table}"))
            .execute(pool)
            .await
            .expect("drop a detached partition");
    }
    sqlx::query("SELECT count(*) FROM commerce_maintain_partitions($1, 12, $2)")
        .bind(premake)
        .bind(as_of)
        .execute(pool)
        .await
        .expect("partitions as of the test's clock");
}
