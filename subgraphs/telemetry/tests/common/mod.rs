//! A telemetry schema over a fresh SQLite file with a set clock, and helpers to run GraphQL.
#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use polygate_kit::Viewer;
use polygate_kit::testing::ScratchDir;
use polygate_telemetry::{
    FixedClock, SqliteStore, TelemetrySchema, TelemetrySettings, TelemetryStore, schema_for,
};
use serde_json::Value;

/// The moment the tests' clock shows: 2024-03-01 12:00:00 UTC (a Friday), fixed.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap()
}

pub struct Fixture {
    pub store: Arc<dyn TelemetryStore>,
    pub clock: FixedClock,
    pub schema: TelemetrySchema,
    /// Holds the SQLite file; removed when the fixture is dropped.
    _dir: ScratchDir,
}

pub async fn fixture() -> Fixture {
    let dir = ScratchDir::new("telemetry_gql");
    let store: Arc<dyn TelemetryStore> = Arc::new(
        SqliteStore::open(&dir.path().join("telemetry.db"))
            .await
            .unwrap(),
    );
    let clock = FixedClock::at(now());
    let schema = schema_for(
        store.clone(),
        Arc::new(clock.clone()),
        &TelemetrySettings::default(),
    );
    Fixture {
        store,
        clock,
        schema,
        _dir: dir,
    }
}

pub fn staff() -> Viewer {
    Viewer {
        user_id: "1".into(),
        session_id: "s".into(),
        staff: true,
    }
}

pub fn customer() -> Viewer {
    Viewer {
        user_id: "2".into(),
        session_id: "s".into(),
        staff: false,
    }
}

impl Fixture {
    /// Seeds the demo fleet at the clock's now.
    pub async fn seed(&self) -> u64 {
        polygate_telemetry::seed::seed_demo(self.store.as_ref(), self.clock_now())
            .await
            .unwrap()
    }

    pub fn clock_now(&self) -> DateTime<Utc> {
        use polygate_telemetry::Clock;
        self.clock.now()
    }

    pub async fn run(
        &self,
        query: &str,
        variables: Value,
        viewer: Option<Viewer>,
    ) -> async_graphql::Response {
        let mut request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables));
        if let Some(viewer) = viewer {
            request = request.data(viewer);
        }
        self.schema.execute(request).await
    }
}

/// The response's data as JSON.
pub fn json(response: &async_graphql::Response) -> Value {
    serde_json::to_value(&response.data).unwrap()
}

/// The `extensions.code` of every error.
pub fn codes(response: &async_graphql::Response) -> Vec<String> {
    response
        .errors
        .iter()
        .filter_map(|e| e.extensions.as_ref()?.get("code").cloned())
        .map(|v| v.to_string().trim_matches('"').to_owned())
        .collect()
}
